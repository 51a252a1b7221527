from __future__ import annotations

import pytest

from app.domain.auth import Forbidden, Principal
from app.domain.errors import (
    IdempotencyKeyReused,
    IllegalTransition,
    InvalidCursor,
    NotFound,
    OrderCancelled,
    ValidationError,
)
from app.domain.money import Money
from app.domain.orders import InventoryState, OrderStatus, PaymentState
from tests.support.order_world import ADMIN_USER, OrderWorld


@pytest.fixture
def world() -> OrderWorld:
    w = OrderWorld()
    for user in ("u1", "u2"):
        w.add_user(user)
    w.catalog.put("mug", "Mug", 1250, "usd")
    w.catalog.put("tea", "Tea", 399, "USD")
    w.catalog.restock("mug", 10)
    w.catalog.restock("tea", 5)
    return w


def test_catalog_put_keeps_stock_and_restock_adds(world: OrderWorld) -> None:
    updated = world.catalog.put("mug", " Big mug ", 1500, "USD")
    assert (updated.name, updated.price, updated.available, updated.added) == ("Big mug", Money(1500, "USD"), 10, 10)
    assert world.catalog.restock("mug", 5).available == 15
    assert world.catalog.get("mug").added == 15
    with pytest.raises(NotFound):
        world.catalog.restock("nope", 1)
    with pytest.raises(NotFound):
        world.catalog.get("nope")
    with pytest.raises(ValidationError):
        world.catalog.put("x", "X", 0, "USD")


def test_catalog_pages(world: OrderWorld) -> None:
    for i in range(5):
        world.catalog.put(f"p{i}", f"P{i}", 100, "USD")
    seen, cursor = [], None
    while True:
        page = world.catalog.list(3, cursor)
        seen += [p.id for p in page.items]
        if page.next_key is None:
            break
        cursor = page.next_key
    assert sorted(seen) == sorted(world.products.products)
    with pytest.raises(InvalidCursor):
        world.catalog.list(3, "forged")
    with pytest.raises(ValidationError):
        world.catalog.list(0, None)


def test_place_prices_on_the_server_stores_pending_and_enqueues(world: OrderWorld) -> None:
    placed = world.order_service.place("u1", [("mug", 2), ("tea", 1)])
    assert placed.created
    assert placed.enqueued
    stored = world.orders.orders[placed.order.id]
    assert stored.status is OrderStatus.PENDING
    assert stored.total == Money(2 * 1250 + 399, "USD")
    assert world.queue.sent == [placed.order.id]


def test_unknown_product_is_rejected_and_nothing_stored(world: OrderWorld) -> None:
    with pytest.raises(ValidationError):
        world.order_service.place("u1", [("ghost", 1)])
    assert world.orders.orders == {}
    assert world.queue.sent == []


def test_idempotency_key_replays_the_original_and_rejects_another_body(world: OrderWorld) -> None:
    first = world.order_service.place("u1", [("mug", 1)], idempotency_key="k1")
    again = world.order_service.place("u1", [("mug", 1)], idempotency_key="k1")
    assert (again.order.id, again.created) == (first.order.id, False)
    assert len(world.orders.orders) == 1
    # Still PENDING: the replay re-enqueues, in case the first enqueue was lost.
    assert world.queue.sent == [first.order.id, first.order.id]
    with pytest.raises(IdempotencyKeyReused):
        world.order_service.place("u1", [("mug", 2)], idempotency_key="k1")
    # The key is per caller.
    other = world.order_service.place("u2", [("mug", 2)], idempotency_key="k1")
    assert other.created
    assert len(world.orders.orders) == 2


def test_replay_of_a_processed_order_does_not_enqueue(world: OrderWorld) -> None:
    first = world.order_service.place("u1", [("mug", 1)], idempotency_key="k1")
    world.order_dispatcher.dispatch(first.order.id)
    world.order_workflow.reserve(first.order.id)  # the reservation makes it PROCESSING
    again = world.order_service.place("u1", [("mug", 1)], idempotency_key="k1")
    assert (again.order.status, again.enqueued) == (OrderStatus.PROCESSING, False)
    assert world.queue.sent == [first.order.id]


def test_failed_enqueue_keeps_the_accepted_order(world: OrderWorld) -> None:
    world.queue.broken = True
    placed = world.order_service.place("u1", [("mug", 1)], idempotency_key="k")
    assert placed.created
    assert not placed.enqueued
    assert world.orders.orders[placed.order.id].status is OrderStatus.PENDING
    world.queue.broken = False
    assert world.order_service.place("u1", [("mug", 1)], idempotency_key="k").enqueued
    assert world.queue.sent == [placed.order.id]


def test_get_is_for_owner_or_admin(world: OrderWorld) -> None:
    order = world.order_service.place("u1", [("mug", 1)]).order
    assert world.order_service.get(order.id, Principal("u1")).id == order.id
    assert world.order_service.get(order.id, ADMIN_USER).id == order.id
    with pytest.raises(Forbidden):
        world.order_service.get(order.id, Principal("u2"))
    with pytest.raises(NotFound):
        world.order_service.get("missing", ADMIN_USER)


def test_list_is_newest_first_with_a_user_bound_cursor(world: OrderWorld) -> None:
    ids = []
    for _ in range(5):
        ids.append(world.order_service.place("u1", [("tea", 1)]).order.id)
        world.clock.advance(seconds=1)
    world.order_service.place("u2", [("tea", 1)])
    me = Principal("u1")
    first = world.order_service.list_for_user("u1", me, 3, None)
    assert [o.id for o in first.items] == ids[::-1][:3]
    rest = world.order_service.list_for_user("u1", me, 3, first.next_key)
    assert [o.id for o in rest.items] == ids[::-1][3:]
    assert rest.next_key is None
    with pytest.raises(InvalidCursor):
        world.order_service.list_for_user("u2", Principal("u2"), 3, first.next_key)
    with pytest.raises(Forbidden):
        world.order_service.list_for_user("u1", Principal("u2"), 3, None)
    with pytest.raises(ValidationError):
        world.order_service.list_for_user("u1", me, 0, None)
    assert len(world.order_service.list_for_user("u1", ADMIN_USER, 10, None).items) == 5


def test_cancel_before_payment_only(world: OrderWorld) -> None:
    me = world.add_user("u1")
    pending = world.order_service.place("u1", [("mug", 1)]).order
    assert world.order_service.cancel(pending.id, me).status is OrderStatus.CANCELLED
    assert world.order_service.cancel(pending.id, me).status is OrderStatus.CANCELLED  # idempotent
    assert world.order_dispatcher.dispatch(pending.id) == "skipped"

    paid = world.order_service.place("u1", [("mug", 1)]).order
    world.order_dispatcher.dispatch(paid.id)
    world.order_workflow.reserve(paid.id)
    world.order_workflow.charge(paid.id)
    with pytest.raises(IllegalTransition):
        world.order_service.cancel(paid.id, me)
    with pytest.raises(Forbidden):
        world.order_service.cancel(paid.id, Principal("u2"))


def test_cancel_after_reservation_stops_the_payment(world: OrderWorld) -> None:
    me = world.add_user("u1")
    order = world.order_service.place("u1", [("mug", 3)]).order
    world.order_dispatcher.dispatch(order.id)
    world.order_workflow.reserve(order.id)
    world.order_service.cancel(order.id, me)
    with pytest.raises(OrderCancelled):
        world.order_workflow.charge(order.id)
    assert world.order_workflow.release(order.id)
    mug = world.products.products["mug"]
    assert (mug.available, mug.reserved) == (10, 0)
    assert world.payments.charges == {}


def test_dispatch_starts_once_and_writes_nothing(world: OrderWorld) -> None:
    order = world.order_service.place("u1", [("mug", 1)]).order
    assert world.order_dispatcher.dispatch(order.id) == "started"
    assert world.order_dispatcher.dispatch(order.id) == "duplicate"
    assert world.orders.orders[order.id] == order  # PENDING, untouched: the reservation makes it PROCESSING
    assert list(world.starter.started) == [order.id]
    assert world.starter.started[order.id] == {"orderId": order.id}
    with pytest.raises(NotFound):
        world.order_dispatcher.dispatch("missing")


def test_every_task_is_idempotent(world: OrderWorld) -> None:
    world.add_user("u1")
    order = world.order_service.place("u1", [("mug", 2)]).order
    world.order_dispatcher.dispatch(order.id)
    wf = world.order_workflow
    for _ in range(2):
        wf.validate(order.id)
        wf.reserve(order.id)
    assert world.products.products["mug"].reserved == 2
    for _ in range(2):
        wf.charge(order.id)
    assert world.payments.charges == {order.id: Money(2500, "USD")}
    for _ in range(2):
        confirmed = wf.commit(order.id)
    assert (confirmed.status, confirmed.inventory, confirmed.payment) == (
        OrderStatus.CONFIRMED,
        InventoryState.COMMITTED,
        PaymentState.CHARGED,
    )
    mug = world.products.products["mug"]
    assert (mug.available, mug.reserved, mug.sold) == (8, 0, 2)
    assert wf.release(order.id) is False
    wf.notify(order.id)
    assert [t for t, _ in world.events.events] == ["OrderProcessed"]
    assert world.events.events[0][1]["total"] == 2500


def test_validation_failures(world: OrderWorld) -> None:
    world.add_user("ghost-user")
    order = world.order_service.place("ghost-user", [("mug", 1)]).order
    del world.users.users["ghost-user"]  # deleted after the order was accepted
    with pytest.raises(ValidationError, match="user"):
        world.order_workflow.validate(order.id)
    world.add_user("u1")
    order = world.order_service.place("u1", [("mug", 1)]).order
    world.catalog.put("mug", "Mug", 9999, "USD")
    with pytest.raises(ValidationError, match="changed"):
        world.order_workflow.validate(order.id)
    with pytest.raises(ValidationError):
        world.order_workflow.reserve("missing")


def test_refund_and_fail(world: OrderWorld) -> None:
    world.add_user("u1")
    order = world.order_service.place("u1", [("tea", 1)]).order
    wf = world.order_workflow
    assert wf.refund(order.id) is False
    world.order_dispatcher.dispatch(order.id)
    wf.reserve(order.id)
    wf.charge(order.id)
    assert wf.refund(order.id) is True
    assert wf.refund(order.id) is False
    failed = wf.fail(order.id, "CommitFailed")
    assert (failed.status, failed.reason) == (OrderStatus.FAILED, "CommitFailed")
    assert wf.fail(order.id, "CommitFailed").status is OrderStatus.FAILED
    assert world.events.events[-1][0] == "OrderFailed"
    assert world.events.events[-1][1]["reason"] == "CommitFailed"


def test_fail_after_a_cancel_keeps_the_order_cancelled(world: OrderWorld) -> None:
    me = world.add_user("u1")
    order = world.order_service.place("u1", [("mug", 1)]).order
    world.order_dispatcher.dispatch(order.id)
    world.order_service.cancel(order.id, me)
    assert world.order_workflow.fail(order.id, "InsufficientInventory").status is OrderStatus.CANCELLED
    assert world.events.events == []
    confirmed = world.order_service.place("u1", [("mug", 1)]).order
    world.order_dispatcher.dispatch(confirmed.id)
    world.order_workflow.reserve(confirmed.id)
    world.order_workflow.charge(confirmed.id)
    world.order_workflow.commit(confirmed.id)
    # Another execution confirmed it: the decision keeps CONFIRMED, and its compensations change nothing.
    assert world.order_workflow.fail(confirmed.id, "Late").status is OrderStatus.CONFIRMED
    assert world.order_workflow.refund(confirmed.id) is False
    assert world.order_workflow.release(confirmed.id) is False
    assert world.orders.orders[confirmed.id].status is OrderStatus.CONFIRMED
