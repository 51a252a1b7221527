"""The order's asynchronous life: dispatch from the queue, then each task of the saga.

Every method is keyed by the order id and safe to run twice: the conditional writes in the
adapters turn a repeated reserve, charge, commit, release or refund into a no-op.
"""

from __future__ import annotations

from typing import Any

from app.domain.errors import IllegalTransition, NotFound, OrderCancelled, ValidationError
from app.domain.orders import FINAL, Order, OrderStatus, stale_lines
from app.services.ports.common import Clock
from app.services.ports.orders import (
    EventPublisher,
    Inventory,
    OrderQueue,
    OrderRepository,
    PaymentGateway,
    ProductRepository,
    WorkflowStarter,
)
from app.services.ports.users import UserRepository


def order_detail(order: Order) -> dict[str, Any]:
    """The event body describing an order (the OrderProcessed / OrderFailed contract, version 1)."""
    # Imported here: the contracts load pydantic (48 ms of a cold start), which only the tasks that publish need;
    # ValidateOrder, CheckInventory, ProcessPayment, UpdateInventory and the queue worker never do.
    from app.domain.events import outcome_event

    return outcome_event(order).model_dump(mode="json")


def publish_outbox(order: Order, orders: OrderRepository, events: EventPublisher) -> bool:
    """Publish the outcome event the order's outbox holds, then clear it; False when nothing was pending.

    At least once: a crash after publishing and before clearing publishes it again later, and consumers
    key what they count by the order, not the event id.
    """
    if order.outbox is None:
        return False
    events.publish(order.outbox, order_detail(order))
    orders.clear_outbox(order.id, order.outbox)
    return True


class OrderDispatcher:
    """The queue worker's use case: start the order's workflow once.

    It writes nothing: the order stays PENDING until the reservation, which marks it PROCESSING in its own
    transaction (a write fewer an order). A start that fails leaves it PENDING, and the redelivery starts it.
    """

    def __init__(self, orders: OrderRepository, starter: WorkflowStarter, watch: OrderQueue | None = None) -> None:
        self.orders = orders
        self.starter = starter
        self.watch = watch

    def dispatch(self, order_id: str) -> str:
        """'started', 'duplicate' (execution already exists) or 'skipped' (order cancelled or final)."""
        order = self.orders.get(order_id)
        if order is None:
            raise NotFound(f"order {order_id} not found")
        if order.status in FINAL:
            return "skipped"
        started = self.starter.start(order_id, {"orderId": order_id})
        if self.watch is not None:
            # An Express execution that dies raises no event: a delayed message has the reconciler look at the
            # order once no execution of it can still run. Sent after the start: a failed send redelivers both.
            self.watch.enqueue(order_id)
        return "started" if started else "duplicate"


class OrderWorkflow:
    """One method per task state of the order workflow."""

    def __init__(
        self,
        orders: OrderRepository,
        products: ProductRepository,
        users: UserRepository,
        inventory: Inventory,
        payments: PaymentGateway,
        events: EventPublisher,
        clock: Clock,
    ) -> None:
        self.orders = orders
        self.products = products
        self.users = users
        self.inventory = inventory
        self.payments = payments
        self.events = events
        self.clock = clock

    def _order(self, order_id: str) -> Order:
        order = self.orders.get(order_id)
        if order is None:
            raise ValidationError(f"order {order_id} does not exist")
        return order

    def validate(self, order_id: str) -> Order:
        """The order is live, its user exists, and its products and prices are current."""
        order = self._order(order_id)
        if order.status is OrderStatus.CANCELLED:
            raise OrderCancelled(f"order {order_id} was cancelled")
        if self.users.get(order.user_id) is None:
            raise ValidationError(f"user {order.user_id} does not exist")
        stale = stale_lines(order, self.products.get_many([line.product_id for line in order.lines]))
        if stale:
            raise ValidationError(f"products changed or removed since the order: {', '.join(stale)}")
        return order

    def reserve(self, order_id: str) -> Order:
        """Reserve every line in one transaction."""
        order = self._order(order_id)
        self.inventory.reserve(order, self.clock())
        return order

    def charge(self, order_id: str) -> Order:
        """Charge the total once; the order is marked first so that it can no longer be cancelled.

        No write follows the charge: the commit, which runs only after this task succeeded, records it
        (CHARGED with CONFIRMED), and a crash before that leaves CHARGING, which every recovery refunds.
        """
        order = self.orders.start_payment(order_id, self.clock())
        self.payments.charge(order.id, order.total, order.payment_token)
        return order

    def commit(self, order_id: str) -> Order:
        """reserved -> sold and CONFIRMED together."""
        return self.inventory.commit(self._order(order_id), self.clock())

    def notify(self, order_id: str) -> Order:
        """Publish OrderProcessed from the outbox (a retry after it was published sends nothing)."""
        order = self._order(order_id)
        publish_outbox(order, self.orders, self.events)
        return order

    def release(self, order_id: str) -> bool:
        """Give the reservation back, if the order holds one; never for a confirmed order."""
        order = self._order(order_id)
        if order.status is OrderStatus.CONFIRMED:
            return False  # its stock is sold: a duplicate execution's compensation must not touch it
        return self.inventory.release(order, self.clock())

    def refund(self, order_id: str) -> bool:
        """Refund the charge, if there is one; never for a confirmed order."""
        if self._order(order_id).status is OrderStatus.CONFIRMED:
            return False
        return self.payments.refund(order_id)

    def fail(self, order_id: str, reason: str) -> Order:
        """Decide the outcome: FAILED with its reason, publishing OrderFailed.

        An order already CONFIRMED (another execution of it won) or CANCELLED (the user won) stays so, and the
        definition compensates only what is not CONFIRMED: the decision comes before any compensation.
        """
        try:
            order = self.orders.transition(order_id, OrderStatus.FAILED, self.clock(), reason=reason)
        except IllegalTransition:
            current = self._order(order_id)
            if current.status in (OrderStatus.CANCELLED, OrderStatus.CONFIRMED):
                return current
            raise
        publish_outbox(order, self.orders, self.events)
        return order
