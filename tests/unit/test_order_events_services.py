"""The downstream use cases over in-memory fakes: consumers, analytics queries and the cleanup."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from app.domain.errors import ValidationError
from app.domain.events import OrderFailed, OrderProcessed, order_processed
from app.domain.orders import InventoryState, Order, OrderLine, OrderStatus, PaymentState
from app.services.cleanup import CleanupPolicy, CleanupPorts, CleanupService
from app.services.order_events import AnalyticsQueries, OrderEventHandlers
from tests.support.event_fakes import (
    FakeExecutions,
    InMemoryAnalytics,
    InMemoryClaims,
    InMemoryStockWatch,
    PagedStaleOrders,
)
from tests.support.fakes import FakeClock, RecordingEvents, RecordingPublisher, RecordingQueue
from tests.support.order_world import OrderWorld

AT = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


@dataclass
class BrokenEvents:
    def publish(self, detail_type: str, detail: Mapping[str, Any]) -> None:
        raise ConnectionError("bus unreachable")


def handlers(world: OrderWorld, events: Any = None) -> tuple[OrderEventHandlers, InMemoryAnalytics, RecordingPublisher]:
    analytics, notes = InMemoryAnalytics(), RecordingPublisher()
    stock = InMemoryStockWatch(world.products)
    h = OrderEventHandlers(analytics, stock, notes, events or world.events, "arn:topic", low_stock_threshold=5)
    return h, analytics, notes


def confirmed(world: OrderWorld, order_id: str, lines: tuple[tuple[str, int, int], ...]) -> OrderProcessed:
    order = Order(order_id, "ada", tuple(OrderLine(p, q, u) for p, q, u in lines), "USD", OrderStatus.CONFIRMED, AT, AT)
    return order_processed(order)


def test_a_redelivered_event_is_counted_once_and_each_delivery_notifies() -> None:
    world = OrderWorld()
    h, analytics, notes = handlers(world)
    event = confirmed(world, "o-1", (("mug", 2, 500), ("tea", 1, 234)))
    first = h.on_processed(AT, event)
    again = h.on_processed(AT, event)
    h.on_processed(AT + timedelta(days=1), confirmed(world, "o-2", (("mug", 1, 500),)))
    assert (first.counted, again.counted) == (True, False)
    day1, day2 = AnalyticsQueries(analytics).daily(AT.date(), AT.date() + timedelta(days=1))
    assert (day1.orders, dict(day1.revenue), dict(day1.units)) == (1, {"USD": 1234}, {"mug": 2, "tea": 1})
    assert (day2.orders, dict(day2.revenue), dict(day2.units)) == (1, {"USD": 500}, {"mug": 1})
    message = notes.messages[0]
    assert (message.subject, message.topic_arn) == ("Order Confirmation", "arn:topic")
    assert dict(message.attributes) == {"userId": "ada", "eventType": "OrderProcessed"}
    assert "Total: $12.34" in message.body


def test_low_stock_is_published_once_per_crossing() -> None:
    world = OrderWorld()
    world.catalog.put("mug", "Mug", 500, "USD")
    world.catalog.restock("mug", 3)  # below the threshold of 5
    h, _, _ = handlers(world)
    event = confirmed(world, "o-1", (("mug", 1, 500),))
    assert h.on_processed(AT, event).low_stock == ("mug",)
    assert h.on_processed(AT, event).low_stock == ()  # still the same dip
    world.catalog.restock("mug", 10)
    assert h.on_processed(AT, event).low_stock == ()  # back above: re-armed
    world.products.products["mug"] = replace(world.products.products["mug"], available=2)
    assert h.on_processed(AT, event).low_stock == ("mug",)  # a new crossing
    lows = [d for kind, d in world.events.events if kind == "LowStock"]
    assert [(d["productId"], d["available"], d["threshold"], d["orderId"]) for d in lows] == [
        ("mug", 3, 5, "o-1"),
        ("mug", 2, 5, "o-1"),
    ]


def test_an_unpublished_low_stock_is_announced_by_the_redelivery() -> None:
    world = OrderWorld()
    world.catalog.put("mug", "Mug", 500, "USD")
    world.catalog.restock("mug", 1)
    broken, _, notes = handlers(world, BrokenEvents())
    event = confirmed(world, "o-1", (("mug", 1, 500),))
    with pytest.raises(ConnectionError):
        broken.on_processed(AT, event)
    assert notes.messages == []  # the notification goes last
    working, _, _ = handlers(world)
    working.stock = broken.stock
    assert working.on_processed(AT, event).low_stock == ("mug",)


def test_order_failed_notifies_the_user_with_the_reason() -> None:
    world = OrderWorld()
    h, _, notes = handlers(world)
    detail = confirmed(world, "o-9", (("mug", 1, 500),)).model_dump() | {"status": "FAILED", "reason": "PaymentFailed"}
    h.on_failed(OrderFailed.model_validate(detail))
    (message,) = notes.messages
    assert (message.subject, dict(message.attributes)) == (
        "Order Failed",
        {"userId": "ada", "eventType": "OrderFailed"},
    )
    assert "Reason: PaymentFailed" in message.body


def test_daily_range_is_checked_and_filled_with_zero_days() -> None:
    queries = AnalyticsQueries(InMemoryAnalytics())
    days = queries.daily(date(2026, 1, 30), date(2026, 2, 2))
    assert [(d.day.isoformat(), d.orders) for d in days] == [
        ("2026-01-30", 0),
        ("2026-01-31", 0),
        ("2026-02-01", 0),
        ("2026-02-02", 0),
    ]
    with pytest.raises(ValidationError):
        queries.daily(date(2026, 2, 2), date(2026, 2, 1))
    with pytest.raises(ValidationError):
        queries.daily(date(2026, 1, 1), date(2026, 6, 1))


# ---------------------------------------------------------------- cleanup


@dataclass
class Cleanup:
    world: OrderWorld
    stale: PagedStaleOrders
    executions: FakeExecutions
    claims: InMemoryClaims
    queue: RecordingQueue
    events: RecordingEvents
    service: CleanupService


def cleanup(world: OrderWorld, page_size: int = 100) -> Cleanup:
    stale, executions, claims = PagedStaleOrders(world.orders), FakeExecutions(), InMemoryClaims()
    queue, events = RecordingQueue(), RecordingEvents()
    ports = CleanupPorts(stale, world.orders, queue, executions, world.inventory, world.payments, events, claims)
    policy = CleanupPolicy(requeue_after=timedelta(minutes=15), page_size=page_size)
    return Cleanup(world, stale, executions, claims, queue, events, CleanupService(ports, world.clock, policy))


def place(world: OrderWorld, n: int, qty: int = 1) -> list[str]:
    if "mug" not in world.products.products:
        world.catalog.put("mug", "Mug", 500, "USD")
        world.catalog.restock("mug", 1000)
    user = world.add_user("ada") if "ada" not in world.users.users else None
    del user
    return [world.order_service.place("ada", [("mug", qty)]).order.id for _ in range(n)]


def test_cleanup_requeues_every_lost_order_across_pages() -> None:
    world = OrderWorld(clock=FakeClock(AT))
    lost = place(world, 250)
    world.clock.advance(minutes=20)
    fresh = place(world, 3)  # too young to be considered lost
    c = cleanup(world)
    report = c.service.run(lambda: 30_000)
    assert sorted(c.queue.sent) == sorted(lost)
    assert set(fresh).isdisjoint(c.queue.sent)
    assert (report.scanned, report.requeued, report.pages, report.complete) == (250, 250, 3, True)


def test_cleanup_stops_before_the_timeout_and_the_next_run_continues() -> None:
    world = OrderWorld(clock=FakeClock(AT))
    lost = place(world, 250)
    world.clock.advance(hours=1)
    c = cleanup(world)
    budget = iter([30_000, 30_000, 4_000])
    first = c.service.run(lambda: next(budget))
    assert (first.pages, first.requeued, first.complete) == (2, 200, False)
    for order_id in c.queue.sent:  # the dispatcher picked those up
        world.order_dispatcher.dispatch(order_id)
        c.executions.status_of[order_id] = "RUNNING"
    second = c.service.run(lambda: 30_000)
    assert (second.requeued, second.complete) == (50, True)
    assert sorted(c.queue.sent) == sorted(lost)


def test_cleanup_expires_stuck_orders_releasing_stock_and_refunding() -> None:
    world = OrderWorld(clock=FakeClock(AT))
    pending, reserved, charged, running = place(world, 4, qty=2)
    for order_id in (reserved, charged, running):
        world.order_dispatcher.dispatch(order_id)
        world.order_workflow.reserve(order_id)
    world.order_workflow.charge(charged)
    world.clock.advance(hours=25)
    c = cleanup(world)
    c.executions.status_of.update({reserved: "FAILED", charged: "ABORTED", running: "RUNNING"})
    report = c.service.run(lambda: 30_000)
    orders = world.orders.orders
    # An ended execution names the reason; an order that simply sat too long expires.
    assert {i: (orders[i].status, orders[i].reason) for i in (pending, reserved, charged)} == {
        pending: (OrderStatus.FAILED, "Expired"),
        reserved: (OrderStatus.FAILED, "WorkflowFailed"),
        charged: (OrderStatus.FAILED, "WorkflowAborted"),
    }
    assert orders[running].status is OrderStatus.PROCESSING
    assert orders[reserved].inventory is InventoryState.RELEASED
    assert orders[charged].payment is PaymentState.CHARGING  # charged, never committed: refunded below
    assert charged in world.payments.refunds
    mug = world.products.products["mug"]
    assert (mug.available, mug.reserved) == (998, 2)  # only the running order still holds stock
    assert (report.expired, report.reconciled, report.released, report.refunded, report.requeued) == (1, 2, 2, 1, 0)
    assert sorted(d["orderId"] for kind, d in c.events.events if kind == "OrderFailed") == sorted(
        [pending, reserved, charged]
    )
    again = c.service.run(lambda: 30_000)  # idempotent: nothing left to do
    assert (again.scanned, again.expired, again.released) == (1, 0, 0)


def test_cleanup_keeps_going_when_one_order_fails_and_purges_claims() -> None:
    world = OrderWorld(clock=FakeClock(AT))
    ids = place(world, 2)
    world.clock.advance(hours=1)
    c = cleanup(world)
    c.claims.expiry.update({"a": AT, "b": AT + timedelta(hours=2), "c": AT - timedelta(days=1)})
    c.queue.broken = True
    report = c.service.run(lambda: 30_000)
    assert len(report.errors) == 2
    assert all(e.split(":")[0] in ids for e in report.errors)
    assert (report.purged, sorted(c.claims.expiry)) == (2, ["b"])
    assert report.as_dict()["errors"] == 2


def test_cleanup_without_time_left_does_nothing() -> None:
    world = OrderWorld(clock=FakeClock(AT))
    place(world, 1)
    world.clock.advance(hours=1)
    c = cleanup(world)
    report = c.service.run(lambda: 1_000)
    assert (report.pages, report.complete, c.queue.sent) == (0, False, [])


def test_cleanup_stops_purging_when_time_runs_out() -> None:
    world = OrderWorld(clock=FakeClock(AT))
    c = cleanup(world, page_size=1)
    c.claims.expiry.update({k: AT - timedelta(days=1) for k in "abc"})
    budget = iter([30_000, 30_000, 30_000, 1_000])
    report = c.service.run(lambda: next(budget))
    assert (report.purged, report.complete) == (2, False)
