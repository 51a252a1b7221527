"""The workflow's task handlers, driven through the real ASL definition over in-memory fakes."""

from __future__ import annotations

import functools
import importlib
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import workers.order_workflow
from app.domain.auth import Principal
from app.domain.errors import ServiceUnavailable, ValidationError
from app.domain.orders import FINAL, OrderStatus
from app.domain.payments import DECLINED_TOKEN, FLAKY_TOKEN
from infra.local.template import load_template
from tests.support.order_world import AslExecution, OrderWorld, Task

PRODUCTS = ("mug", "tea", "pen")


@functools.cache
def wired_handlers() -> dict[str, Any]:
    """Substitution name -> the handler function the template wires it to."""
    template = load_template()
    props = template["Resources"]["OrderWorkflow"]["Properties"]
    wired: dict[str, Any] = {}
    for name, ref in props["DefinitionSubstitutions"].items():
        target = ref["Fn::GetAtt"]
        logical = target[0] if isinstance(target, list) else target.split(".")[0]
        path = template["Resources"][logical]["Properties"]["ImageConfig"]["Command"][0]
        module, _, attr = path.rpartition(".")
        wired[name] = getattr(importlib.import_module(module), attr)
    return wired


def task_handlers(world: OrderWorld, duplicate: bool = False) -> dict[str, Task]:
    """The wired handlers (each run twice if `duplicate`, as a re-delivered task would be)."""

    def bind(handler: Any) -> Task:
        def call(data: dict[str, Any]) -> Any:
            result = handler(data, None)
            return handler(data, None) if duplicate else result

        return call

    return {name: bind(handler) for name, handler in wired_handlers().items()}


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
    assert ex.visited[-2:] == ["MarkOrderFailed", "OrderFailed"]
    assert status(world, ex) == (OrderStatus.FAILED, "InsufficientInventory")
    assert world.products.products["mug"].available == 3  # all or nothing
    assert world.events.events[-1][0] == "OrderFailed"


def test_validation_failure(world: OrderWorld) -> None:
    order = world.order_service.place("u1", [("mug", 1)]).order
    world.order_dispatcher.dispatch(order.id)
    world.catalog.put("mug", "Mug", 700, "USD")
    ex = AslExecution(task_handlers(world), {"orderId": order.id}).run()
    assert ex.visited == ["ValidateOrder", "MarkOrderFailed", "OrderFailed"]
    assert status(world, ex) == (OrderStatus.FAILED, "ValidationError")


def test_declined_payment_releases_the_stock(world: OrderWorld) -> None:
    ex = run(world, [("mug", 2)], token=DECLINED_TOKEN)
    assert ex.visited[2:] == ["ProcessPayment", "ReleaseInventory", "MarkOrderFailed", "OrderFailed"]
    assert status(world, ex) == (OrderStatus.FAILED, "PaymentFailed")
    mug = world.products.products["mug"]
    assert (mug.available, mug.reserved, mug.sold) == (3, 0, 0)
    assert world.payments.charges == {}


def test_failed_commit_refunds_and_releases(world: OrderWorld) -> None:
    world.inventory.fail_commit = True
    ex = run(world, [("mug", 2)])
    assert ex.visited[3:] == [
        "UpdateInventory",
        "CompensatePayment",
        "ReleaseInventory",
        "MarkOrderFailed",
        "OrderFailed",
    ]
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

line = st.tuples(st.sampled_from(PRODUCTS), st.integers(1, 3))
action = st.one_of(
    st.tuples(st.just("restock"), st.sampled_from(PRODUCTS), st.integers(1, 4)),
    st.tuples(st.just("place"), st.lists(line, min_size=1, max_size=3, unique_by=lambda x: x[0]), st.booleans()),
    st.tuples(st.just("cancel"), st.integers(0, 20)),
    st.tuples(st.just("step"), st.integers(0, 20), st.booleans()),
    st.tuples(st.just("reprice"), st.sampled_from(PRODUCTS)),
    st.tuples(st.just("commit_fault"), st.booleans()),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(actions=st.lists(action, max_size=40))
def test_stock_and_money_invariants(actions: list[tuple[Any, ...]], monkeypatch: pytest.MonkeyPatch) -> None:
    world = OrderWorld()
    monkeypatch.setattr(workers.order_workflow, "services", lambda: world.container)
    owner = world.add_user("u1")
    for pid in PRODUCTS:
        world.catalog.put(pid, pid, 100, "USD")
    executions: list[AslExecution] = []

    def advance(i: int, duplicate: bool) -> None:
        ex = executions[i % len(executions)]
        if ex.outcome is None:
            ex.tasks = task_handlers(world, duplicate)
            ex.step()

    for act in actions:
        kind = act[0]
        if kind == "restock":
            world.catalog.restock(act[1], act[2])
        elif kind == "place":
            order = world.order_service.place("u1", act[1], payment_token=DECLINED_TOKEN if act[2] else "tok_visa")
            if world.order_dispatcher.dispatch(order.order.id) == "started":
                executions.append(AslExecution(task_handlers(world), {"orderId": order.order.id}))
        elif kind == "cancel" and executions:
            order_id = executions[act[1] % len(executions)].data["orderId"]
            if world.orders.orders[order_id].cancellable:
                world.order_service.cancel(order_id, owner)
        elif kind == "step" and executions:
            advance(act[1], act[2])
        elif kind == "reprice":
            world.catalog.put(act[1], act[1], 100 + len(actions), "USD")
        elif kind == "commit_fault":
            world.inventory.fail_commit = act[1]
        check_stock(world)
    for ex in executions:
        ex.tasks = task_handlers(world)
        ex.run()
    check_stock(world)
    orders = list(world.orders.orders.values())
    assert all(o.status in FINAL for o in orders)
    assert all(p.reserved == 0 for p in world.products.products.values())
    confirmed = [o for o in orders if o.status is OrderStatus.CONFIRMED]
    for pid, product in world.products.products.items():
        assert product.sold == sum(x.quantity for o in confirmed for x in o.lines if x.product_id == pid)
    charged = sum(m.amount for m in world.payments.charges.values())
    refunded = sum(m.amount for m in world.payments.refunds.values())
    assert charged - refunded == sum(o.total.amount for o in confirmed)


def check_stock(world: OrderWorld) -> None:
    for p in world.products.products.values():
        assert p.available >= 0
        assert p.reserved >= 0
        assert p.available + p.reserved + p.sold == p.added
