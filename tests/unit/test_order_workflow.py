"""The workflow's task handlers, driven through the real ASL definition over in-memory fakes."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import workers.order_workflow
from app.domain.auth import Principal
from app.domain.errors import ServiceUnavailable, ValidationError
from app.domain.orders import OrderStatus
from app.domain.payments import DECLINED_TOKEN, FLAKY_TOKEN
from tests.support.order_world import AslExecution, OrderWorld, Task
from tests.support.shop import PRODUCTS, Shop, action, exercise, wired_tasks

# Decide first, then compensate: the failure path every failing execution takes.
FAILURE_PATH = ["MarkOrderFailed", "Decided", "CompensatePayment", "ReleaseInventory", "Compensated", "OrderFailed"]


def task_handlers(world: OrderWorld, duplicate: bool = False) -> dict[str, Task]:
    """The wired handlers (the world is reached through the patched `services`)."""
    return wired_tasks(duplicate)


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> OrderWorld:
    w = OrderWorld()
    monkeypatch.setattr(workers.order_workflow, "services", lambda: w.container)
    w.add_user("u1")
    for pid in PRODUCTS:
        w.catalog.put(pid, pid.title(), 500, "USD")
    w.catalog.restock("mug", 3)
    return w


def run(world: OrderWorld, items: list[tuple[str, int]], token: str = "tok_visa") -> AslExecution:
    order = world.order_service.place("u1", items, payment_token=token).order
    world.order_dispatcher.dispatch(order.id)
    return AslExecution(task_handlers(world), {"orderId": order.id}).run()


def status(world: OrderWorld, execution: AslExecution) -> tuple[OrderStatus, str | None]:
    order = world.orders.orders[execution.data["orderId"]]
    return order.status, order.reason


def test_happy_path_confirms_sells_and_notifies(world: OrderWorld) -> None:
    ex = run(world, [("mug", 2)])
    assert ex.outcome == "SUCCEEDED"
    assert ex.visited == ["ValidateOrder", "CheckInventory", "ProcessPayment", "UpdateInventory", "SendNotification"]
    assert status(world, ex) == (OrderStatus.CONFIRMED, None)
    mug = world.products.products["mug"]
    assert (mug.available, mug.reserved, mug.sold) == (1, 0, 2)
    assert [t for t, _ in world.events.events] == ["OrderProcessed"]


def test_out_of_stock_fails_with_its_reason(world: OrderWorld) -> None:
    ex = run(world, [("mug", 1), ("tea", 1)])
    assert ex.outcome == "FAILED"
    assert ex.visited[2:] == FAILURE_PATH
    assert status(world, ex) == (OrderStatus.FAILED, "InsufficientInventory")
    assert world.products.products["mug"].available == 3  # all or nothing
    assert world.events.events[-1][0] == "OrderFailed"


def test_validation_failure(world: OrderWorld) -> None:
    order = world.order_service.place("u1", [("mug", 1)]).order
    world.order_dispatcher.dispatch(order.id)
    world.catalog.put("mug", "Mug", 700, "USD")
    ex = AslExecution(task_handlers(world), {"orderId": order.id}).run()
    assert ex.visited == ["ValidateOrder", *FAILURE_PATH]
    assert status(world, ex) == (OrderStatus.FAILED, "ValidationError")


def test_declined_payment_releases_the_stock(world: OrderWorld) -> None:
    ex = run(world, [("mug", 2)], token=DECLINED_TOKEN)
    assert ex.visited[2:] == ["ProcessPayment", *FAILURE_PATH]
    assert status(world, ex) == (OrderStatus.FAILED, "PaymentFailed")
    mug = world.products.products["mug"]
    assert (mug.available, mug.reserved, mug.sold) == (3, 0, 0)
    assert world.payments.charges == {}


def test_failed_commit_refunds_and_releases(world: OrderWorld) -> None:
    world.inventory.fail_commit = True
    ex = run(world, [("mug", 2)])
    assert ex.visited[3:] == ["UpdateInventory", *FAILURE_PATH]
    assert status(world, ex) == (OrderStatus.FAILED, "CommitFailed")
    order_id = ex.data["orderId"]
    assert world.payments.refunds == world.payments.charges == {order_id: world.orders.orders[order_id].total}
    assert world.products.products["mug"].available == 3


def test_transient_error_is_retried_to_success(world: OrderWorld) -> None:
    ex = run(world, [("mug", 1)], token=FLAKY_TOKEN)
    assert ex.outcome == "SUCCEEDED"
    assert world.payments.attempts == {ex.data["orderId"]: 2}
    assert status(world, ex) == (OrderStatus.CONFIRMED, None)


def test_cancel_during_the_workflow_ends_cancelled_without_charge(world: OrderWorld) -> None:
    order = world.order_service.place("u1", [("mug", 2)]).order
    world.order_dispatcher.dispatch(order.id)
    ex = AslExecution(task_handlers(world), {"orderId": order.id})
    ex.step()
    ex.step()  # reserved
    world.order_service.cancel(order.id, Principal("u1"))
    ex.run()
    assert ex.visited[-3:] == ["ProcessPayment", "ReleaseCancelledOrder", "OrderCancelled"]
    assert ex.outcome == "SUCCEEDED"
    assert world.orders.orders[order.id].status is OrderStatus.CANCELLED
    assert world.products.products["mug"].available == 3
    assert world.payments.charges == {}


def test_bad_payload_and_transient_aws_errors(world: OrderWorld, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValidationError):
        workers.order_workflow.validate_order({"orderId": "../etc"}, None)
    from botocore.exceptions import ClientError

    def throttled(order_id: str) -> None:
        raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "slow down"}}, "UpdateItem")

    monkeypatch.setattr(world.order_workflow, "reserve", throttled)
    with pytest.raises(ServiceUnavailable):
        workers.order_workflow.check_inventory({"orderId": "o-1"}, None)

    def broken(order_id: str) -> None:
        raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "UpdateItem")

    monkeypatch.setattr(world.order_workflow, "reserve", broken)
    with pytest.raises(ClientError):
        workers.order_workflow.check_inventory({"orderId": "o-1"}, None)


def test_mark_order_failed_without_error_uses_unknown(world: OrderWorld) -> None:
    order = world.order_service.place("u1", [("mug", 1)]).order
    reply = workers.order_workflow.mark_order_failed({"orderId": order.id}, None)
    assert reply == {"orderId": order.id, "status": "FAILED", "reason": "Unknown"}


# ---------------------------------------------------------------- invariants


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(actions=st.lists(action, max_size=40))
def test_stock_and_money_invariants(actions: list[tuple[Any, ...]], monkeypatch: pytest.MonkeyPatch) -> None:
    world = OrderWorld()
    monkeypatch.setattr(workers.order_workflow, "services", lambda: world.container)
    exercise(Shop(world), wired_tasks, actions)


def test_a_duplicate_execution_never_undoes_a_confirmed_order(world: OrderWorld) -> None:
    # Express workflows run at least once: two executions of one order, interleaved step by step.
    order = world.order_service.place("u1", [("mug", 1)]).order
    world.order_dispatcher.dispatch(order.id)
    first = AslExecution(task_handlers(world), {"orderId": order.id}).run()
    # The second runs after the first confirmed the order: ProcessPayment finds it CONFIRMED; the decision keeps
    # CONFIRMED, so nothing is compensated (before decide-first, this path refunded the confirmed charge).
    second = AslExecution(task_handlers(world), {"orderId": order.id}).run()
    assert (first.outcome, second.outcome) == ("SUCCEEDED", "SUCCEEDED")
    assert second.visited[-3:] == ["MarkOrderFailed", "Decided", "AlreadyConfirmed"]
    assert world.orders.orders[order.id].status is OrderStatus.CONFIRMED
    charged, refunded = Shop(world).money()
    assert charged - refunded == world.orders.orders[order.id].total.amount
