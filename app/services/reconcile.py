"""Reconciliation: an order whose workflow ended without finishing it is brought to a final state.

Used by the reconciler function (on a Step Functions execution that ended FAILED, TIMED_OUT or ABORTED)
and by the daily cleanup (expired orders, and any outbox still pending). Every step is idempotent, so a
reconciliation that runs twice, or alongside the saga's own compensation, gives back and refunds once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from app.domain.errors import IllegalTransition
from app.domain.orders import FINAL, Order, OrderStatus
from app.services.order_workflow import publish_outbox
from app.services.ports.common import Clock
from app.services.ports.orders import EventPublisher, Inventory, OrderRepository, PaymentGateway

# The reason stored on an order whose execution ended abnormally, by execution status.
WORKFLOW_ENDED = {"FAILED": "WorkflowFailed", "TIMED_OUT": "WorkflowTimedOut", "ABORTED": "WorkflowAborted"}
# ... and on an order the watch found unfinished after every execution of it must have ended (Express).
WORKFLOW_UNFINISHED = "WorkflowUnfinished"


@dataclass(frozen=True)
class Settled:
    """What one reconciliation changed."""

    order_id: str
    status: OrderStatus | None
    released: bool = False
    refunded: bool = False
    failed: bool = False
    published: bool = False


class OrderReconciler:
    """Gives back the stock, refunds the charge, marks FAILED and publishes the outcome the order owes."""

    def __init__(
        self,
        orders: OrderRepository,
        inventory: Inventory,
        payments: PaymentGateway,
        events: EventPublisher,
        clock: Clock,
    ) -> None:
        self.orders = orders
        self.inventory = inventory
        self.payments = payments
        self.events = events
        self.clock = clock

    def reconcile(self, order_id: str, reason: str) -> Settled:
        """Settle the order with this id (unknown ids settle nothing)."""
        order = self.orders.get(order_id)
        if order is None:
            return Settled(order_id, None)
        return self.settle(order, reason)

    def check(self, order_id: str, unfinished_after: timedelta) -> Settled | None:
        """The watch of an Express workflow: settle the order if it is still unfinished `unfinished_after` its
        last change, or finish what a final one still owes; None while an execution may still be running."""
        order = self.orders.get(order_id)
        if order is None:
            return Settled(order_id, None)
        if order.status not in FINAL and self.clock() - order.updated_at < unfinished_after:
            return None
        return self.settle(order, WORKFLOW_UNFINISHED)

    def settle(self, order: Order, reason: str) -> Settled:
        """A confirmed order only publishes what it owes; any other gives back, refunds, then is FAILED."""
        if order.status is OrderStatus.CONFIRMED:
            return Settled(order.id, order.status, published=publish_outbox(order, self.orders, self.events))
        # Give back first and mark last: if this stops midway the order is still unfinished, and retried.
        released = self.inventory.release(order, self.clock())
        refunded = self.payments.refund(order.id) if order.payment is not None else False
        failed = False
        if order.status not in FINAL:
            try:
                order = self.orders.transition(order.id, OrderStatus.FAILED, self.clock(), reason=reason)
                failed = True
            except IllegalTransition:
                order = self.orders.get(order.id) or order  # it reached a final state meanwhile (a cancel)
        published = publish_outbox(order, self.orders, self.events)
        return Settled(order.id, order.status, released, refunded, failed, published)
