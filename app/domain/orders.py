"""The Order entity, its status machine and the rules of a valid order."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from app.domain.errors import IllegalTransition, ValidationError
from app.domain.money import Money
from app.domain.products import Product

MAX_LINES = 50
MAX_QUANTITY = 1000
DEFAULT_PAYMENT_TOKEN = "tok_visa"  # noqa: S105 - a public test card token, not a secret


class OrderStatus(StrEnum):
    """Where an order is in its life."""

    PENDING = "PENDING"
    PROCESSING = "PROCESSING"
    CONFIRMED = "CONFIRMED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"


class InventoryState(StrEnum):
    """What the order holds of the stock; each step happens at most once per order."""

    RESERVED = "RESERVED"
    RELEASED = "RELEASED"
    COMMITTED = "COMMITTED"


class PaymentState(StrEnum):
    """How far the payment went: CHARGING before the gateway is called (it blocks cancel); CHARGED with CONFIRMED."""

    CHARGING = "CHARGING"
    CHARGED = "CHARGED"


FINAL = frozenset({OrderStatus.CONFIRMED, OrderStatus.FAILED, OrderStatus.CANCELLED})
# The outcome event each final status owes the bus. It is written to the order's outbox in the same write
# as the status, and cleared once published: a crash in between leaves it for the reconciler to publish.
OUTCOME_EVENT = {OrderStatus.CONFIRMED: "OrderProcessed", OrderStatus.FAILED: "OrderFailed"}
_NEXT: dict[OrderStatus, frozenset[OrderStatus]] = {
    OrderStatus.PENDING: frozenset({OrderStatus.PROCESSING, OrderStatus.CANCELLED, OrderStatus.FAILED}),
    OrderStatus.PROCESSING: frozenset({OrderStatus.CONFIRMED, OrderStatus.FAILED, OrderStatus.CANCELLED}),
}


def sources_of(target: OrderStatus) -> frozenset[OrderStatus]:
    """The statuses from which an order may move to `target`."""
    return frozenset(s for s, nexts in _NEXT.items() if target in nexts)


def can_move(source: OrderStatus, target: OrderStatus) -> bool:
    """True if the status machine allows source -> target."""
    return target in _NEXT.get(source, frozenset())


@dataclass(frozen=True)
class OrderLine:
    """One product of an order, with the unit price it was priced at."""

    product_id: str
    quantity: int
    unit_price: int

    def subtotal(self) -> int:
        """Quantity times unit price, in minor units."""
        return self.quantity * self.unit_price


@dataclass(frozen=True)
class StockTake:
    """Units of one order line taken from one of its product's stock shards (0 is the product's own item)."""

    product_id: str
    shard: int
    quantity: int


@dataclass(frozen=True)
class Order:
    """A user's order."""

    id: str
    user_id: str
    lines: tuple[OrderLine, ...]
    currency: str
    status: OrderStatus
    created_at: datetime
    updated_at: datetime
    reason: str | None = None
    inventory: InventoryState | None = None
    payment: PaymentState | None = None
    payment_token: str = DEFAULT_PAYMENT_TOKEN
    outbox: str | None = None  # the outcome event (OUTCOME_EVENT) written but not yet published
    taken: tuple[StockTake, ...] = ()  # where the reservation took its units; () before it

    def takes(self) -> tuple[StockTake, ...]:
        """Where the reserved units sit: as recorded, or every line from shard 0 (orders reserved before shards)."""
        return self.taken or tuple(StockTake(x.product_id, 0, x.quantity) for x in self.lines)

    @property
    def total(self) -> Money:
        """The order total, computed from its lines."""
        return Money(sum(line.subtotal() for line in self.lines), self.currency)

    @property
    def cancellable(self) -> bool:
        """An order may be cancelled until its payment starts."""
        return can_move(self.status, OrderStatus.CANCELLED) and self.payment is None

    def moved(self, target: OrderStatus, now: datetime, reason: str | None = None) -> Order:
        """A copy in the target status; IllegalTransition if the machine forbids it."""
        if not can_move(self.status, target):
            raise IllegalTransition(f"order {self.id} is {self.status}, it cannot become {target}")
        return replace(self, status=target, updated_at=now, reason=reason, outbox=OUTCOME_EVENT.get(target))


def check_items(items: Sequence[tuple[str, int]]) -> list[tuple[str, int]]:
    """1-50 lines, quantity 1-1000 each, no product twice."""
    errors: list[dict[str, str]] = []
    if not 1 <= len(items) <= MAX_LINES:
        errors.append({"field": "items", "message": f"must have 1-{MAX_LINES} lines"})
    seen: set[str] = set()
    for i, (product_id, quantity) in enumerate(items):
        if not 1 <= quantity <= MAX_QUANTITY:
            errors.append({"field": f"items.{i}.quantity", "message": f"must be 1-{MAX_QUANTITY}"})
        if product_id in seen:
            errors.append({"field": f"items.{i}.productId", "message": "product appears more than once"})
        seen.add(product_id)
    if errors:
        raise ValidationError("order items are not valid", errors)
    return list(items)


def price_lines(items: Sequence[tuple[str, int]], catalog: Mapping[str, Product]) -> tuple[tuple[OrderLine, ...], str]:
    """Lines priced from the catalog (never from the client) and their single currency."""
    unknown = [
        {"field": f"items.{i}.productId", "message": f"unknown product {pid}"}
        for i, (pid, _) in enumerate(items)
        if pid not in catalog
    ]
    if unknown:
        raise ValidationError("order names unknown products", unknown)
    currencies = {catalog[pid].price.currency for pid, _ in items}
    if len(currencies) != 1:
        raise ValidationError("all products of an order must share one currency")
    lines = tuple(OrderLine(pid, qty, catalog[pid].price.amount) for pid, qty in items)
    return lines, currencies.pop()


def stale_lines(order: Order, catalog: Mapping[str, Product]) -> list[str]:
    """Product ids of lines whose product is gone or whose price or currency changed."""
    return [
        line.product_id
        for line in order.lines
        if (p := catalog.get(line.product_id)) is None or p.price != Money(line.unit_price, order.currency)
    ]


def request_fingerprint(items: Sequence[tuple[str, int]], payment_token: str) -> str:
    """A stable hash of what the client asked for, to recognise a replayed request."""
    canonical = json.dumps({"items": [list(i) for i in items], "token": payment_token}, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()
