"""Ports of the catalog, order and workflow use cases."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from app.domain.money import Money
from app.domain.orders import Order, OrderStatus
from app.domain.products import Product
from app.services.ports.common import Page, PageKey


@dataclass(frozen=True)
class IdempotencyClaim:
    """An Idempotency-Key (scoped to its caller) and the fingerprint of the request that used it."""

    key: str
    fingerprint: str
    expires_at: datetime


class KeyAlreadyClaimed(Exception):
    """The Idempotency-Key was used before; carries the original order and request fingerprint."""

    def __init__(self, order_id: str, fingerprint: str) -> None:
        super().__init__(order_id)
        self.order_id = order_id
        self.fingerprint = fingerprint


class ProductRepository(Protocol):
    """Stores products and their stock counters."""

    def upsert(self, product_id: str, name: str, price: Money, now: datetime) -> Product:
        """Create the product (no stock) or change its name and price; counters are kept."""

    def restock(self, product_id: str, quantity: int, now: datetime) -> Product:
        """Atomically add stock; NotFound if the product does not exist."""

    def add_shards(self, product_id: str, count: int, now: datetime) -> Product:
        """Grow the product to `count` stock shards (more than it has); Conflict if it grew meanwhile."""

    def get(self, product_id: str) -> Product | None:
        """The product, if any."""

    def get_many(self, product_ids: Collection[str]) -> dict[str, Product]:
        """The products that exist among these ids."""

    def page(self, limit: int, start: PageKey | None) -> Page[Product, PageKey]:
        """A page of products."""


class OrderRepository(Protocol):
    """Stores orders; every status change is a conditional write."""

    def add(self, order: Order, claim: IdempotencyClaim | None) -> None:
        """Store a new order and its idempotency claim together; KeyAlreadyClaimed if the key is taken."""

    def claimed(self, key: str, now: datetime) -> KeyAlreadyClaimed | None:
        """The live claim on an Idempotency-Key, if any."""

    def get(self, order_id: str) -> Order | None:
        """The order, if any."""

    def page_for_user(self, user_id: str, limit: int, start: PageKey | None) -> Page[Order, PageKey]:
        """A user's orders, newest first."""

    def transition(self, order_id: str, target: OrderStatus, now: datetime, reason: str | None = None) -> Order:
        """Move to `target` if the status machine allows it (CANCELLED also needs no payment started).

        Already in `target`: returns the order unchanged. Otherwise IllegalTransition (NotFound if absent).
        """

    def start_payment(self, order_id: str, now: datetime) -> Order:
        """Mark the payment as started (blocks cancel); OrderCancelled if the order was cancelled first."""

    def clear_outbox(self, order_id: str, event: str) -> None:
        """Forget the pending outcome event once published (a no-op if already cleared)."""


class Inventory(Protocol):
    """Moves stock for an order, atomically with the order's own record; each step once per order."""

    def reserve(self, order: Order, now: datetime) -> None:
        """available -> reserved for every line in one transaction; InsufficientInventory or OrderCancelled."""

    def release(self, order: Order, now: datetime) -> bool:
        """reserved -> available if the order holds a reservation; False if there was nothing to release."""

    def commit(self, order: Order, now: datetime) -> Order:
        """reserved -> sold and the order CONFIRMED, in one transaction; CommitFailed if it cannot."""


class PaymentGateway(Protocol):
    """Charges and refunds, at most once per order."""

    def charge(self, order_id: str, amount: Money, token: str) -> None:
        """Charge the order's total once; PaymentFailed if declined, ServiceUnavailable if transient."""

    def refund(self, order_id: str) -> bool:
        """Refund the order's charge once; False if there was no charge."""


class OrderQueue(Protocol):
    """Hands accepted orders to the order queue worker."""

    def enqueue(self, order_id: str) -> None:
        """Send the order's id to the queue."""


class WorkflowStarter(Protocol):
    """Starts the order workflow."""

    def start(self, order_id: str, payload: Mapping[str, Any]) -> bool:
        """Start the execution named by the order id; False if it already exists (a re-delivery)."""


class EventPublisher(Protocol):
    """Publishes domain events (EventBridge)."""

    def publish(self, detail_type: str, detail: Mapping[str, Any]) -> None:
        """Publish one event."""
