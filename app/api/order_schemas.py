"""HTTP bodies of the catalog and orders APIs."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from app.api.schemas import ID_PATTERN, name_rule
from app.domain.money import MAX_AMOUNT
from app.domain.orders import MAX_LINES, MAX_QUANTITY, Order
from app.domain.products import NAME_MAX, RESTOCK_MAX, Product

ProductName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=NAME_MAX), name_rule(NAME_MAX)
]
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Za-z]{3}$")]
PaymentToken = Annotated[str, StringConstraints(pattern=r"^tok_[a-z0-9_]{1,40}$")]


class ProductPut(BaseModel):
    """Body of PUT /products/{id}: the price is in minor units (cents) of the currency."""

    model_config = ConfigDict(extra="forbid")
    name: ProductName
    price: int = Field(gt=0, le=MAX_AMOUNT, description="Minor units, e.g. 1299 for 12.99")
    currency: Currency = "USD"


class Restock(BaseModel):
    """Body of POST /products/{id}/restock."""

    model_config = ConfigDict(extra="forbid")
    quantity: int = Field(ge=1, le=RESTOCK_MAX)


class ProductOut(BaseModel):
    """A product and its stock counters."""

    id: str
    name: str
    price: int
    currency: str
    available: int
    reserved: int
    sold: int
    created_at: datetime = Field(serialization_alias="createdAt")
    updated_at: datetime = Field(serialization_alias="updatedAt")

    @classmethod
    def of(cls, p: Product) -> ProductOut:
        """From the domain entity."""
        return cls(
            id=p.id,
            name=p.name,
            price=p.price.amount,
            currency=p.price.currency,
            available=p.available,
            reserved=p.reserved,
            sold=p.sold,
            created_at=p.created_at,
            updated_at=p.updated_at,
        )


class ProductList(BaseModel):
    """A page of products."""

    items: list[ProductOut]
    next_cursor: str | None = Field(serialization_alias="nextCursor")


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
    status: str
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
            status=o.status.value,
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
