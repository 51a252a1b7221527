"""A task's process dies mid-invocation: every order still ends final, and owes nothing.

Crashes are real: the function's worker process is killed (SIGKILL) and Step Functions is told what AWS
tells it, `Runtime.ExitError`. "after" kills it once the handler did its work but before its reply got
out (the hardest case for idempotency); "before" kills it before the handler runs. A crash on every
attempt exhausts the Retry, ends the execution FAILED, and the reconciler (the execution's status change
event on the default bus) settles the order.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from app.bootstrap import Container
from app.domain.orders import Order, OrderStatus
from infra.local.provision import client as aws
from infra.local.runtime import LocalRuntime
from infra.local.runtime.worker import FunctionPool, Invocation
from infra.local.template import Stack
from tests.conftest import Logs
from tests.integration.test_order_workflow_e2e import execution_path, ledger, settle, shop

CRASH = {
    "errorType": "Runtime.ExitError",
    "errorMessage": "Runtime exited with error: signal: killed",
    "stackTrace": [],
}
EVERY_TIME = 1_000


@dataclass
class Chaos:
    """(function, orderId) -> (when, how many more crashes)."""

    plan: dict[tuple[str, str], tuple[str, int]] = field(default_factory=dict)
    crashes: list[tuple[str, str]] = field(default_factory=list)

    def crash(self, function: str, order_id: str, when: str = "after", times: int = 1) -> None:
        self.plan[(function, order_id)] = (when, times)


def kill_a_worker(pool: FunctionPool) -> None:
    """SIGKILL one of the function's warm processes (it stays in the pool, dead, until the pool notices)."""
    for worker in list(pool._idle):
        worker.process.kill()
        worker.process.wait()
        return


@pytest.fixture
def chaos() -> Chaos:
    return Chaos()


@pytest.fixture
def runtime(stack: Stack, logs: Logs, chaos: Chaos) -> Iterator[LocalRuntime]:
    rt = LocalRuntime(stack, log=logs, poll_seconds=1, retry_delay_seconds=1, concurrency=4)
    invoke = rt.services.invoke

    def crashing(logical_id: str, event: Any) -> Invocation:
        key = (logical_id, str(event.get("orderId", "")) if isinstance(event, dict) else "")
        when, left = chaos.plan.get(key, ("", 0))
        if left <= 0:
            return invoke(logical_id, event)
        chaos.plan[key] = (when, left - 1)
        chaos.crashes.append(key)
        outcome = invoke(logical_id, event) if when == "after" else Invocation("crash")
        kill_a_worker(rt.pools[logical_id])
        return Invocation(outcome.request_id, error=CRASH)

    rt.services.invoke = crashing
    rt.start()
    yield rt
    rt.stop()


def ended_path(stack: Stack, order_id: str, timeout: float = 120) -> list[str]:
    """The states the order's execution entered, once it has ended."""
    sfn = aws(stack, "stepfunctions")
    arn = f"{stack.ref('OrderWorkflow').replace(':stateMachine:', ':execution:')}:{order_id}"
    deadline = time.monotonic() + timeout
    while sfn.describe_execution(executionArn=arn)["status"] == "RUNNING":
        assert time.monotonic() < deadline, f"execution {order_id} still running"
        time.sleep(0.5)
    return execution_path(stack, order_id)


def counted(stack: Stack, order_id: str) -> bool:
    """Analytics counted the order's sale (the OrderProcessed consumer ran)."""
    key = {"pk": {"S": f"EVENT#OrderProcessed#{order_id}"}, "sk": {"S": "EVENT"}}
    return "Item" in aws(stack, "dynamodb").get_item(TableName=stack.name("AnalyticsTable"), Key=key)


def wait_counted(stack: Stack, order_ids: list[str], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not all(counted(stack, i) for i in order_ids):
        assert time.monotonic() < deadline, {i: counted(stack, i) for i in order_ids}
        time.sleep(0.5)


def published(api: Container, order_ids: list[str], timeout: float = 120) -> dict[str, Order]:
    """The orders once their outbox is empty (each outcome event went out)."""
    deadline = time.monotonic() + timeout
    while True:
        orders = {i: api.order_repo.get(i) for i in order_ids}
        if all(o is not None and o.outbox is None for o in orders.values()):
            return {i: o for i, o in orders.items() if o is not None}
        assert time.monotonic() < deadline, {i: o.outbox if o else None for i, o in orders.items()}
        time.sleep(0.5)


def wait_reconciled(logs: Logs, order_id: str, timeout: float = 120) -> None:
    """Until ReconcileOrderFunction has settled the order (its log line names it)."""
    deadline = time.monotonic() + timeout

    def seen() -> bool:
        return any("[ReconcileOrderFunction]" in x and "order reconciled" in x and order_id in x for x in list(logs))

    while not seen():
        assert time.monotonic() < deadline, f"order {order_id} was not reconciled"
        time.sleep(0.2)


def assert_invariants(stack: Stack, api: Container, order_ids: list[str], stock: int) -> None:
    """Stock is conserved and nothing is held; every confirmed order is charged once; every failed one owes nothing."""
    final = published(api, order_ids)
    mug = api.product_repo.get("mug")
    assert mug is not None
    assert (mug.available + mug.sold, mug.reserved) == (stock, 0)
    assert mug.sold == sum(o.lines[0].quantity for o in final.values() if o.status is OrderStatus.CONFIRMED)
    money = ledger(stack)
    for order_id, order in final.items():
        charged, refunded = (order_id, "CHARGE") in money, (order_id, "REFUND") in money
        if order.status is OrderStatus.CONFIRMED:
            assert (charged, refunded) == (True, False), order_id
        else:
            assert refunded == charged, order_id


FORWARD = ["ValidateOrderFunction", "CheckInventoryFunction", "ProcessPaymentFunction", "UpdateInventoryFunction"]


@pytest.mark.slow
def test_a_crash_in_any_forward_task_is_retried_and_the_order_confirms(
    stack: Stack, runtime: LocalRuntime, monkeypatch: pytest.MonkeyPatch, chaos: Chaos
) -> None:
    api = shop(stack, monkeypatch, {"mug": 20}, users=["ada"])
    tasks = [*FORWARD, "SendNotificationFunction"]
    orders = {
        (fn, when): api.orders.place("ada", [("mug", 1)]).order.id for fn in tasks for when in ("after", "before")
    }
    for (fn, when), order_id in orders.items():
        chaos.crash(fn, order_id, when)
    final = settle(stack, api, list(orders.values()))
    assert {key: final[i].status for key, i in orders.items()} == dict.fromkeys(orders, OrderStatus.CONFIRMED)
    # CONFIRMED comes before SendNotification: wait for every execution to end before counting crashes.
    assert {ended_path(stack, i)[-1] for i in orders.values()} == {"SendNotification"}
    assert sorted(chaos.crashes) == sorted((fn, i) for (fn, _), i in orders.items())
    wait_counted(stack, list(orders.values()))
    assert_invariants(stack, api, list(orders.values()), stock=20)


@pytest.mark.slow
def test_a_crash_in_a_compensation_is_retried_and_the_order_fails_clean(
    stack: Stack, runtime: LocalRuntime, monkeypatch: pytest.MonkeyPatch, chaos: Chaos
) -> None:
    api = shop(stack, monkeypatch, {"mug": 20}, users=["ada"])
    refund = api.orders.place("ada", [("mug", 1)]).order.id
    chaos.crash("UpdateInventoryFunction", refund, "before", EVERY_TIME)  # commit never succeeds: compensate
    chaos.crash("CompensatePaymentFunction", refund)
    chaos.crash("ReleaseInventoryFunction", refund)
    chaos.crash("MarkOrderFailedFunction", refund)
    final = settle(stack, api, [refund])
    assert (final[refund].status, final[refund].reason) == (OrderStatus.FAILED, "Runtime.ExitError")
    assert ended_path(stack, refund)[-1] == "OrderFailed"  # the saga's own failure path, not a reconciliation
    assert_invariants(stack, api, [refund], stock=20)


@pytest.mark.slow
@pytest.mark.parametrize(
    "stack_overrides",
    # The watch must come after every execution of the order could have ended, as 420 s > 300 s does in AWS:
    # here, after UpdateInventory's retries (at most 1 + 2 + 4 s of backoff) even on a loaded machine.
    [{"WorkflowType": "STANDARD"}, {"WorkflowWatchSeconds": "20", "WorkflowUnfinishedSeconds": "15"}],
    ids=["standard-status-change-event", "express-watch-queue"],
)
def test_a_task_that_always_crashes_is_settled_by_the_reconciler(
    stack: Stack, runtime: LocalRuntime, monkeypatch: pytest.MonkeyPatch, chaos: Chaos, logs: Logs
) -> None:
    api = shop(stack, monkeypatch, {"mug": 20}, users=["ada"])
    unnotified = api.orders.place("ada", [("mug", 2)]).order.id
    uncompensated = api.orders.place("ada", [("mug", 3)]).order.id
    chaos.crash("SendNotificationFunction", unnotified, "before", EVERY_TIME)
    chaos.crash("UpdateInventoryFunction", uncompensated, "before", EVERY_TIME)
    chaos.crash("CompensatePaymentFunction", uncompensated, "before", EVERY_TIME)
    final = settle(stack, api, [unnotified, uncompensated])
    # Confirmed before the notification died: the reconciler publishes the OrderProcessed it still owed.
    assert final[unnotified].status is OrderStatus.CONFIRMED
    assert ended_path(stack, unnotified)[-1] == "NotificationPending"
    wait_counted(stack, [unnotified])
    # Decided FAILED (with the crash that sent it there) before its compensation died: the reconciler refunds
    # and releases what the saga could not.
    assert (final[uncompensated].status, final[uncompensated].reason) == (OrderStatus.FAILED, "Runtime.ExitError")
    assert ended_path(stack, uncompensated)[-1] == "CompensationIncomplete"
    # FAILED was decided before the compensation died, so the order is final before the reconciler's turn.
    wait_reconciled(logs, uncompensated)
    assert_invariants(stack, api, [unnotified, uncompensated], stock=20)
