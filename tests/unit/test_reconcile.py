"""The outbox and the reconciler on the fakes: an order whose workflow died still ends final and owes nothing."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

import workers.order_reconciler
from app.domain.events import OrderProcessed
from app.domain.orders import InventoryState, OrderStatus
from app.services.order_events import OrderEventHandlers
from app.services.reconcile import OrderReconciler
from tests.support.event_fakes import InMemoryAnalytics, InMemoryStockWatch
from tests.support.fakes import RecordingEvents, RecordingPublisher
from tests.support.order_world import OrderWorld


@pytest.fixture
def world() -> OrderWorld:
    w = OrderWorld()
    w.add_user("ada")
    w.catalog.put("mug", "Mug", 500, "USD")
    w.catalog.restock("mug", 10)
    return w


def reconciler(world: OrderWorld) -> OrderReconciler:
    return OrderReconciler(world.orders, world.inventory, world.payments, world.events, world.clock)


def accepted(world: OrderWorld, *steps: str) -> str:
    """An order dispatched and taken through these workflow steps."""
    order_id = world.order_service.place("ada", [("mug", 2)]).order.id
    world.order_dispatcher.dispatch(order_id)
    for step in steps:
        getattr(world.order_workflow, step)(order_id)
    return order_id


def published(world: OrderWorld, kind: str) -> list[str]:
    return [str(detail["orderId"]) for detail_type, detail in world.events.events if detail_type == kind]


def test_the_confirmation_and_its_event_are_owed_together(world: OrderWorld) -> None:
    order_id = accepted(world, "validate", "reserve", "charge", "commit")
    assert world.orders.orders[order_id].outbox == "OrderProcessed"  # written with CONFIRMED
    world.order_workflow.notify(order_id)
    world.order_workflow.notify(order_id)  # a retried task sends nothing more
    assert published(world, "OrderProcessed") == [order_id]
    assert world.orders.orders[order_id].outbox is None


def test_a_confirmed_order_whose_notifier_died_is_published_by_the_reconciler(world: OrderWorld) -> None:
    order_id = accepted(world, "validate", "reserve", "charge", "commit")
    settled = reconciler(world).reconcile(order_id, "WorkflowFailed")
    assert (settled.status, settled.published, settled.refunded, settled.released) == (
        OrderStatus.CONFIRMED,
        True,
        False,
        False,
    )
    assert published(world, "OrderProcessed") == [order_id]
    assert reconciler(world).reconcile(order_id, "WorkflowFailed").published is False  # once


def test_a_charged_order_whose_compensation_died_is_refunded_released_and_failed(world: OrderWorld) -> None:
    order_id = accepted(world, "validate", "reserve", "charge")
    settled = reconciler(world).reconcile(order_id, "WorkflowFailed")
    order = world.orders.orders[order_id]
    assert (order.status, order.reason, order.inventory, order.outbox) == (
        OrderStatus.FAILED,
        "WorkflowFailed",
        InventoryState.RELEASED,
        None,
    )
    assert (settled.released, settled.refunded, settled.failed, settled.published) == (True, True, True, True)
    assert order_id in world.payments.refunds
    mug = world.products.products["mug"]
    assert (mug.available, mug.reserved, mug.sold) == (10, 0, 0)
    again = reconciler(world).reconcile(order_id, "WorkflowFailed")
    assert (again.released, again.refunded, again.failed, again.published) == (False, False, False, False)
    assert published(world, "OrderFailed") == [order_id]


def test_the_sagas_own_failure_is_left_as_it_is(world: OrderWorld) -> None:
    order_id = accepted(world, "validate", "reserve")
    world.order_workflow.release(order_id)
    world.order_workflow.fail(order_id, "InsufficientInventory")
    settled = reconciler(world).reconcile(order_id, "WorkflowFailed")
    assert world.orders.orders[order_id].reason == "InsufficientInventory"
    assert (settled.released, settled.refunded, settled.failed, settled.published) == (False, False, False, False)


def test_a_cancelled_order_whose_release_died_gets_its_stock_back(world: OrderWorld) -> None:
    order_id = accepted(world, "validate", "reserve")
    world.order_service.cancel(order_id, world.add_user("ada"))
    settled = reconciler(world).reconcile(order_id, "WorkflowFailed")
    assert (settled.status, settled.released, settled.failed) == (OrderStatus.CANCELLED, True, False)
    assert world.products.products["mug"].reserved == 0


def test_a_republished_event_is_counted_once(world: OrderWorld) -> None:
    order_id = accepted(world, "validate", "reserve", "charge", "commit")
    world.order_workflow.notify(order_id)
    # As if the publisher died after publishing, before clearing the outbox.
    world.orders.orders[order_id] = replace(world.orders.orders[order_id], outbox="OrderProcessed")
    reconciler(world).reconcile(order_id, "WorkflowFailed")
    stock = InMemoryStockWatch(world.products)
    handlers = OrderEventHandlers(InMemoryAnalytics(), stock, RecordingPublisher(), RecordingEvents(), "t", 1)
    events = [OrderProcessed.model_validate(d) for kind, d in world.events.events if kind == "OrderProcessed"]
    assert len(events) == 2
    assert [handlers.on_processed(world.clock(), e).counted for e in events] == [True, False]


@pytest.mark.parametrize(
    "event",
    [{}, {"detail": None}, {"detail": {"name": "o", "status": "SUCCEEDED"}}, {"detail": {"status": "FAILED"}}, []],
)
def test_the_reconciler_ignores_what_is_not_an_ended_execution(event: Any) -> None:
    assert workers.order_reconciler.handler(event, None) == {"outcome": "ignored"}


# ---------------------------------------------------------------- the watch of an Express workflow


def test_the_dispatcher_leaves_a_watch_for_each_order_it_starts(world: OrderWorld) -> None:
    from app.services.order_workflow import OrderDispatcher
    from tests.support.fakes import RecordingQueue

    watch = RecordingQueue()
    dispatcher = OrderDispatcher(world.orders, world.container.workflow, watch)
    order_id = world.order_service.place("ada", [("mug", 1)]).order.id
    dispatcher.dispatch(order_id)
    assert watch.sent == [order_id]


def test_the_watch_waits_while_an_execution_may_still_run(world: OrderWorld) -> None:
    order_id = accepted(world, "reserve", "charge")
    unfinished = timedelta(seconds=360)
    assert reconciler(world).check(order_id, unfinished) is None
    world.clock.advance(seconds=361)
    settled = reconciler(world).check(order_id, unfinished)
    assert settled is not None
    assert (settled.status, settled.released, settled.refunded) == (OrderStatus.FAILED, True, True)
    assert world.orders.orders[order_id].reason == "WorkflowUnfinished"


def test_the_watch_finishes_what_a_failed_order_still_holds(world: OrderWorld) -> None:
    # Decided FAILED, then its compensation died: no need to wait, nothing can confirm it any more.
    order_id = accepted(world, "reserve", "charge")
    world.order_workflow.fail(order_id, "CommitFailed")
    settled = reconciler(world).check(order_id, timedelta(seconds=360))
    assert settled is not None
    assert (settled.released, settled.refunded, settled.failed) == (True, True, False)
    assert world.products.products["mug"].reserved == 0


def test_the_watch_handler_reports_an_unfinished_order_for_a_later_look(
    world: OrderWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    from infra.local.payloads import sqs_event

    monkeypatch.setattr(workers.order_reconciler, "services", lambda: world.container)
    order_id = accepted(world, "reserve")
    event = sqs_event({"orderId": order_id}, "not json", queue="order-service-order-watch-dev")
    reply = workers.order_reconciler.handler(event, None)
    assert [f["itemIdentifier"] for f in reply["batchItemFailures"]] == [m["messageId"] for m in event["Records"]]
    world.clock.advance(seconds=world.container.settings.workflow_unfinished_seconds + 1)
    assert workers.order_reconciler.handler(event, None)["batchItemFailures"] == [
        {"itemIdentifier": event["Records"][1]["messageId"]}
    ]
    assert world.orders.orders[order_id].status is OrderStatus.FAILED
