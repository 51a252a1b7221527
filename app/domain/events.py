"""The service's published event contracts (what other teams consume), version 1.

EventBridge events carry source `order-service` and the class's DETAIL_TYPE; UserCreated is
published on SNS. docs/events/ holds the JSON Schema of each model (`make schemas`), and a test
fails when a committed schema drifts from its model. A breaking change means a new version.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.domain.orders import OUTCOME_EVENT, Order, OrderStatus

EVENT_SOURCE = "order-service"


class Contract(BaseModel):
    """Base of every event: camelCase JSON, unknown fields ignored (consumers tolerate additions)."""

    # defer_build: a validator is built at first use, off the cold start of the functions that publish none.
    model_config = ConfigDict(
        extra="ignore", frozen=True, json_schema_serialization_defaults_required=True, defer_build=True
    )
    DETAIL_TYPE: ClassVar[str]


class OrderLineV1(BaseModel):
    """One line of an order, priced in minor units."""

    model_config = ConfigDict(
        extra="ignore", frozen=True, json_schema_serialization_defaults_required=True, defer_build=True
    )
    productId: str = Field(min_length=1)
    quantity: int = Field(ge=1)
    unitPrice: int = Field(ge=0)


class OrderOutcome(Contract):
    """Fields shared by the events that report how an order ended."""

    version: Literal[1] = 1
    orderId: str = Field(min_length=1)
    userId: str = Field(min_length=1)
    status: str
    items: list[OrderLineV1] = Field(min_length=1)
    total: int = Field(ge=0, description="Minor units of `currency`")
    currency: str = Field(pattern=r"^[A-Z]{3}$")


class OrderProcessed(OrderOutcome):
    """An order was paid and its stock sold (status CONFIRMED)."""

    DETAIL_TYPE: ClassVar[str] = OUTCOME_EVENT[OrderStatus.CONFIRMED]
    reason: str | None = None


class OrderFailed(OrderOutcome):
    """An order reached FAILED; `reason` is the error that stopped it (e.g. PaymentFailed, Expired)."""

    DETAIL_TYPE: ClassVar[str] = OUTCOME_EVENT[OrderStatus.FAILED]
    reason: str = Field(min_length=1)


class UserCreated(Contract):
    """A user registered (SNS, topic UserCreatedTopic)."""

    DETAIL_TYPE: ClassVar[str] = "UserCreated"
    type: Literal["UserCreated"] = "UserCreated"
    version: Literal[1] = 1
    userId: str = Field(min_length=1)
    name: str
    email: str
    createdAt: str = Field(description="ISO 8601 timestamp")


class LowStock(Contract):
    """A product's available stock fell below the alert threshold (once per crossing)."""

    DETAIL_TYPE: ClassVar[str] = "LowStock"
    version: Literal[1] = 1
    productId: str = Field(min_length=1)
    available: int
    threshold: int = Field(ge=1)
    orderId: str | None = Field(None, description="The order whose processing observed the crossing")


CONTRACTS: tuple[type[Contract], ...] = (OrderProcessed, OrderFailed, UserCreated, LowStock)


def _lines(order: Order) -> list[OrderLineV1]:
    return [OrderLineV1(productId=x.product_id, quantity=x.quantity, unitPrice=x.unit_price) for x in order.lines]


def _outcome(order: Order) -> dict[str, Any]:
    return {
        "orderId": order.id,
        "userId": order.user_id,
        "status": order.status.value,
        "items": _lines(order),
        "total": order.total.amount,
        "currency": order.currency,
    }


def order_processed(order: Order) -> OrderProcessed:
    """The OrderProcessed event of a confirmed order."""
    return OrderProcessed(**_outcome(order), reason=order.reason)


def order_failed(order: Order) -> OrderFailed:
    """The OrderFailed event of a failed order."""
    return OrderFailed(**_outcome(order), reason=order.reason or "Unknown")


def outcome_event(order: Order) -> OrderProcessed | OrderFailed:
    """The outcome event a final order owes the bus: OrderFailed for FAILED, else OrderProcessed."""
    return order_failed(order) if order.status is OrderStatus.FAILED else order_processed(order)
