"""The whole order topology on the local runtime: API service -> SQS -> ProcessOrder -> Step Functions
(the real definition, on moto's interpreter) -> task functions in their own processes."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from app.adapters.dynamodb.users import DynamoUserRepository
from app.bootstrap import Container
from app.domain.errors import SoldOut
from app.domain.orders import Order, OrderStatus
from app.domain.payments import DECLINED_TOKEN, FLAKY_TOKEN
from app.domain.users import User
from infra.local.provision import client as aws
from infra.local.runtime import LocalRuntime
from infra.local.runtime.worker import Invocation
from infra.local.template import Stack
from tests.conftest import Logs
from tests.support.order_helpers import as_function


@pytest.fixture
def crash_commit_of() -> set[str]:
    """Order ids whose UpdateInventory invocation crashes (as a killed Lambda would)."""
    return set()


@pytest.fixture
def runtime(stack: Stack, logs: Logs, crash_commit_of: set[str]) -> Iterator[LocalRuntime]:
    rt = LocalRuntime(stack, log=logs, poll_seconds=1, retry_delay_seconds=1, concurrency=4)
    invoke = rt.services.invoke

    def chaos(logical_id: str, event: Any) -> Invocation:
        if logical_id == "UpdateInventoryFunction" and event.get("orderId") in crash_commit_of:
            error = {"errorType": "Runtime.ExitError", "errorMessage": "process exited", "stackTrace": []}
            return Invocation(request_id="crash", error=error)
        return invoke(logical_id, event)

    rt.services.invoke = chaos
    rt.start()
    yield rt
    rt.stop()


def shop(stack: Stack, mp: pytest.MonkeyPatch, stock: dict[str, int], users: list[str]) -> Container:
    api = as_function(stack, mp, "ApiFunction")
    for pid, qty in stock.items():
        api.catalog.put(pid, pid.title(), 1000, "USD")
        api.catalog.restock(pid, qty)
    repo = DynamoUserRepository(api.dynamodb, stack.name("UsersTable"))
    for user_id in users:
        now = api.orders.clock()
        repo.add(User(user_id, user_id, f"{user_id}@example.com", now, now))
    return api


def settle(stack: Stack, api: Container, order_ids: list[str], timeout: float = 180) -> dict[str, Order]:
    """Every order final and every execution of them ended: the outcome is decided before the compensations
    run, so a FAILED order may still be giving its stock back until its execution ends."""
    deadline = time.monotonic() + timeout
    while True:
        orders = {i: api.order_repo.get(i) for i in order_ids}
        final = {
            i: o for i, o in orders.items() if o is not None and o.status in (OrderStatus.CONFIRMED, OrderStatus.FAILED)
        }
        running = _running(stack) & set(order_ids)
        if len(final) == len(order_ids) and not running:
            return final
        assert time.monotonic() < deadline, ({i: o.status if o else None for i, o in orders.items()}, running)
        time.sleep(0.5)


def _running(stack: Stack) -> set[str]:
    """The names (order ids) of the workflow's running executions."""
    pages = (
        aws(stack, "stepfunctions")
        .get_paginator("list_executions")
        .paginate(stateMachineArn=stack.ref("OrderWorkflow"), statusFilter="RUNNING")
    )
    return {e["name"] for page in pages for e in page["executions"]}


def ledger(stack: Stack) -> dict[tuple[str, str], int]:
    items = aws(stack, "dynamodb").scan(TableName=stack.name("PaymentsTable"))["Items"]
    return {(i["orderId"]["S"], i["entry"]["S"]): int(i["amount"]["N"]) for i in items if "amount" in i}


def execution_path(stack: Stack, order_id: str) -> list[str]:
    sfn = aws(stack, "stepfunctions")
    arn = f"{stack.ref('OrderWorkflow').replace(':stateMachine:', ':execution:')}:{order_id}"
    history = sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
    return [e["stateEnteredEventDetails"]["name"] for e in history if "stateEnteredEventDetails" in e]


@pytest.mark.slow
def test_every_workflow_path_on_the_real_definition(
    stack: Stack, runtime: LocalRuntime, monkeypatch: pytest.MonkeyPatch, crash_commit_of: set[str], logs: Logs
) -> None:
    api = shop(stack, monkeypatch, {"mug": 10, "rare": 1}, users=["ada", "ghost"])
    place = api.orders.place
    happy = place("ada", [("mug", 2)]).order.id
    ghost = place("ghost", [("mug", 1)]).order.id
    users = DynamoUserRepository(api.dynamodb, stack.name("UsersTable"))
    gone = users.get("ghost")
    assert gone is not None
    users.delete(gone)  # deleted after its order was accepted: ValidationError
    short = place("ada", [("mug", 1), ("rare", 2)]).order.id
    declined = place("ada", [("mug", 3)], payment_token=DECLINED_TOKEN).order.id
    flaky = place("ada", [("mug", 1)], payment_token=FLAKY_TOKEN).order.id
    crashed = place("ada", [("mug", 2)]).order.id
    crash_commit_of.add(crashed)

    final = settle(stack, api, [happy, ghost, short, declined, flaky, crashed])
    outcome = {k: (final[v].status, final[v].reason) for k, v in locals().items() if isinstance(v, str) and v in final}
    assert outcome == {
        "happy": (OrderStatus.CONFIRMED, None),
        "ghost": (OrderStatus.FAILED, "ValidationError"),
        "short": (OrderStatus.FAILED, "InsufficientInventory"),
        "declined": (OrderStatus.FAILED, "PaymentFailed"),
        "flaky": (OrderStatus.CONFIRMED, None),
        "crashed": (OrderStatus.FAILED, "Runtime.ExitError"),
    }
    mug, rare = api.product_repo.get("mug"), api.product_repo.get("rare")
    assert mug is not None
    assert rare is not None
    # Only the happy and the flaky orders sold; every other reservation went back.
    assert (mug.available, mug.reserved, mug.sold) == (7, 0, 3)
    assert (rare.available, rare.reserved, rare.sold) == (1, 0, 0)
    money = ledger(stack)
    assert money == {
        (happy, "CHARGE"): 2000,
        (flaky, "CHARGE"): 1000,
        (crashed, "CHARGE"): 2000,
        (crashed, "REFUND"): 2000,
    }
    # The outcome is decided before anything is compensated.
    failure_path = ["MarkOrderFailed", "Decided", "CompensatePayment", "ReleaseInventory", "Compensated", "OrderFailed"]
    assert execution_path(stack, declined)[-7:] == ["ProcessPayment", *failure_path]
    assert execution_path(stack, crashed)[-7:] == ["UpdateInventory", *failure_path]
    assert execution_path(stack, flaky).count("ProcessPayment") == 1  # a Retry stays in the state
    emitted = [json.loads(line.split(" ", 1)[1]) for line in logs if '"_aws"' in line and " " in line]
    names = {
        name
        for record in emitted
        for m in record["_aws"]["CloudWatchMetrics"]
        for name in (x["Name"] for x in m["Metrics"])
    }
    assert {"OrdersConfirmed", "OrdersFailed", "WorkflowDuration"} <= names
    assert {r["reason"] for r in emitted if "OrdersFailed" in r} == {
        "ValidationError",
        "InsufficientInventory",
        "PaymentFailed",
        "Runtime.ExitError",
    }


@pytest.mark.slow
def test_duplicate_delivery_has_one_effect(
    stack: Stack, runtime: LocalRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    api = shop(stack, monkeypatch, {"mug": 5}, users=["ada"])
    order_id = api.orders.place("ada", [("mug", 2)]).order.id
    sqs = aws(stack, "sqs")
    for _ in range(2):
        sqs.send_message(QueueUrl=stack.ref("OrderQueue"), MessageBody=json.dumps({"orderId": order_id}))
    sqs.send_message(QueueUrl=stack.ref("OrderQueue"), MessageBody="not json")
    assert settle(stack, api, [order_id])[order_id].status is OrderStatus.CONFIRMED
    time.sleep(2)  # let every copy be processed
    settle(stack, api, [order_id])
    # Express has no execution-name idempotency: a copy handled while the order is PROCESSING starts a second
    # execution, which finds the order settled and changes nothing (AlreadyConfirmed). One effect either way.
    executions = aws(stack, "stepfunctions").list_executions(stateMachineArn=stack.ref("OrderWorkflow"))["executions"]
    assert {e["name"] for e in executions} == {order_id}
    assert {e["status"] for e in executions} == {"SUCCEEDED"}
    assert ledger(stack) == {(order_id, "CHARGE"): 2000}
    mug = api.product_repo.get("mug")
    assert mug is not None
    assert (mug.available, mug.reserved, mug.sold) == (3, 0, 2)


@pytest.mark.slow
def test_fifty_parallel_orders_for_ten_units(
    stack: Stack, runtime: LocalRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    users = [f"u{i}" for i in range(50)]
    api = shop(stack, monkeypatch, {"mug": 10}, users=users)
    with ThreadPoolExecutor(max_workers=25) as pool:
        ids = list(pool.map(lambda u: api.orders.place(u, [("mug", 1)]).order.id, users))
    final = settle(stack, api, ids, timeout=240)
    statuses = sorted((o.status.value, o.reason) for o in final.values())
    assert statuses == [("CONFIRMED", None)] * 10 + [("FAILED", "InsufficientInventory")] * 40
    mug = api.product_repo.get("mug")
    assert mug is not None
    assert (mug.available, mug.reserved, mug.sold) == (0, 0, 10)
    charges = ledger(stack)
    assert sum(charges.values()) == 10 * 1000


@pytest.mark.slow
def test_a_sharded_product_sells_out_through_the_saga_and_the_api_then_refuses_it(
    stack: Stack, runtime: LocalRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    api = shop(stack, monkeypatch, {}, users=["ada"])
    api.catalog.put("lamp", "Lamp", 1000, "USD")
    api.catalog.reshard("lamp", 2)
    api.catalog.restock("lamp", 2)  # one unit on each shard
    both = api.orders.place("ada", [("lamp", 2)]).order.id  # no shard holds two: a snapshot, then one from each
    assert settle(stack, api, [both])[both].status is OrderStatus.CONFIRMED
    late = api.orders.place("ada", [("lamp", 1)]).order.id  # accepted: nothing has flagged the lamp yet
    failed = settle(stack, api, [late])[late]
    assert (failed.status, failed.reason) == (OrderStatus.FAILED, "InsufficientInventory")
    lamp = api.product_repo.get("lamp")
    assert lamp is not None
    assert (lamp.available, lamp.reserved, lamp.sold, lamp.sold_out) == (0, 0, 2, True)  # flagged by the saga
    with pytest.raises(SoldOut):
        api.orders.place("ada", [("lamp", 1)])
    sold = api.order_repo.get(both)
    assert sold is not None
    assert sorted((t.shard, t.quantity) for t in sold.takes()) == [(0, 1), (1, 1)]
