"""HTTP bodies of the orders API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from app.api.schemas.common import ID_PATTERN
from app.domain.orders import MAX_LINES, MAX_QUANTITY, Order, OrderStatus

PaymentToken = Annotated[str, StringConstraints(pattern=r"^tok_[a-z0-9_]{1,40}$")]


class OrderItemIn(BaseModel):
    """One line of a new order; the price comes from the catalog, never from the client."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    product_id: str = Field(alias="productId", pattern=ID_PATTERN)
    quantity: int = Field(ge=1, le=MAX_QUANTITY)


class OrderCreate(BaseModel):
    """Body of POST /orders."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    items: list[OrderItemIn] = Field(min_length=1, max_length=MAX_LINES)
    payment_token: PaymentToken = Field("tok_visa", alias="paymentToken", description="Simulated card token")


class OrderLineOut(BaseModel):
    """One line of an order, at the price it was ordered at."""

    product_id: str = Field(serialization_alias="productId")
    quantity: int
    unit_price: int = Field(serialization_alias="unitPrice")


class OrderOut(BaseModel):
    """An order as the API shows it."""

    id: str
    user_id: str = Field(serialization_alias="userId")
    status: OrderStatus
    reason: str | None
    items: list[OrderLineOut]
    total: int
    currency: str
    created_at: datetime = Field(serialization_alias="createdAt")
    updated_at: datetime = Field(serialization_alias="updatedAt")

    @classmethod
    def of(cls, o: Order) -> OrderOut:
        """From the domain entity."""
        return cls(
            id=o.id,
            user_id=o.user_id,
            status=o.status,
            reason=o.reason,
            items=[
                OrderLineOut(product_id=x.product_id, quantity=x.quantity, unit_price=x.unit_price) for x in o.lines
            ],
            total=o.total.amount,
            currency=o.currency,
            created_at=o.created_at,
            updated_at=o.updated_at,
        )


class OrderList(BaseModel):
    """A page of a user's orders, newest first."""

    items: list[OrderOut]
    next_cursor: str | None = Field(serialization_alias="nextCursor")
