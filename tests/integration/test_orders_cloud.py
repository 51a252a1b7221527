"""The order adapters against the local cloud: conditional writes, transactions, ledgers, messaging."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from app.adapters.dynamodb.items import to_item
from app.adapters.dynamodb.orders import order_values
from app.bootstrap import Container
from app.domain.auth import Principal
from app.domain.errors import (
    CommitFailed,
    IllegalTransition,
    InsufficientInventory,
    NotFound,
    OrderCancelled,
    PaymentFailed,
    ServiceUnavailable,
)
from app.domain.money import Money
from app.domain.orders import InventoryState, Order, OrderLine, OrderStatus, PaymentState
from app.domain.payments import DECLINED_TOKEN, FLAKY_TOKEN
from app.services.ports.orders import IdempotencyClaim, KeyAlreadyClaimed
from infra.local.provision import client as aws
from infra.local.template import Stack
from tests.support.order_helpers import add_users, as_function

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def new_order(order_id: str, lines: tuple[OrderLine, ...], status: OrderStatus = OrderStatus.PENDING) -> Order:
    return Order(order_id, "u1", lines, "USD", status, T0, T0)


def seed(stack: Stack, mp: pytest.MonkeyPatch, stock: dict[str, int]) -> Container:
    api = as_function(stack, mp, "ApiFunction")
    add_users(api, "u1")
    for pid, qty in stock.items():
        api.catalog.put(pid, pid.title(), 250, "USD")
        if qty:
            api.catalog.restock(pid, qty)
    return api


def test_products_upsert_restock_and_read(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    api = seed(stack, monkeypatch, {"mug": 5, "tea": 0})
    renamed = api.catalog.put("mug", "Big mug", 300, "EUR")
    assert (renamed.price, renamed.available, renamed.added) == (Money(300, "EUR"), 5, 5)
    assert api.catalog.restock("mug", 7).available == 12
    with pytest.raises(NotFound):
        api.catalog.restock("ghost", 1)
    assert api.catalog.get("tea").available == 0
    assert set(api.product_repo.get_many(["mug", "tea", "ghost"])) == {"mug", "tea"}
    seen, cursor = [], None
    while True:
        page = api.catalog.list(1, cursor)
        seen += [p.id for p in page.items]
        if page.next_key is None:
            break
        cursor = page.next_key
    assert sorted(seen) == ["mug", "tea"]


def test_orders_idempotency_claims_and_user_listing(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    api = seed(stack, monkeypatch, {"mug": 5})
    first = api.orders.place("u1", [("mug", 1)], idempotency_key="k1")
    assert first.created
    assert first.enqueued
    replay = api.orders.place("u1", [("mug", 1)], idempotency_key="k1")
    assert (replay.created, replay.order.id) == (False, first.order.id)
    taken = IdempotencyClaim("u1#k1", "x", T0 + timedelta(hours=1))
    with pytest.raises(KeyAlreadyClaimed):
        api.order_repo.add(new_order("other", first.order.lines), taken)
    assert api.order_repo.get("other") is None  # the transaction left nothing behind
    # An expired claim (TTL not yet applied) is free again.
    expired = IdempotencyClaim("u1#old", "f", T0 - timedelta(days=2))
    api.order_repo.add(new_order("o-old", first.order.lines), expired)
    later = Order("o-new", "u1", first.order.lines, "USD", OrderStatus.PENDING, T0 + timedelta(days=1), T0)
    api.order_repo.add(later, IdempotencyClaim("u1#old", "g", T0 + timedelta(days=2)))
    sent = aws(stack, "sqs").receive_message(QueueUrl=stack.ref("OrderQueue"), MaxNumberOfMessages=10)["Messages"]
    assert [json.loads(m["Body"]) for m in sent] == [{"orderId": first.order.id}] * 2

    me = Principal("u1")
    ids = [o.id for o in api.orders.list_for_user("u1", me, 10, None).items]
    assert ids[0] == first.order.id  # created now, after the T0 orders
    page = api.orders.list_for_user("u1", me, 2, None)
    rest = api.orders.list_for_user("u1", me, 2, page.next_key)
    assert [o.id for o in page.items + rest.items] == ids
    assert rest.next_key is None


def test_status_transitions_are_conditional(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    api = seed(stack, monkeypatch, {"mug": 5})
    repo = api.order_repo
    repo.add(new_order("o1", (OrderLine("mug", 1, 250),)), None)
    with pytest.raises(IllegalTransition):
        repo.transition("o1", OrderStatus.CONFIRMED, T0)
    assert repo.transition("o1", OrderStatus.CANCELLED, T0, "CancelledByUser").status is OrderStatus.CANCELLED
    assert repo.transition("o1", OrderStatus.CANCELLED, T0).reason == "CancelledByUser"
    with pytest.raises(IllegalTransition):
        repo.transition("o1", OrderStatus.PROCESSING, T0)
    with pytest.raises(NotFound):
        repo.transition("ghost", OrderStatus.CANCELLED, T0)
    with pytest.raises(OrderCancelled):
        repo.start_payment("o1", T0)


def test_saga_steps_are_transactional_and_idempotent(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    api = seed(stack, monkeypatch, {"mug": 5, "tea": 1})
    api.orders.place("u1", [("mug", 1)])  # someone else's pending order, untouched below
    lines = (OrderLine("mug", 3, 250), OrderLine("tea", 1, 250))
    api.order_repo.add(new_order("o1", lines, OrderStatus.PROCESSING), None)
    api.order_repo.add(new_order("o2", lines, OrderStatus.PROCESSING), None)

    reserve = as_function(stack, monkeypatch, "CheckInventoryFunction").order_workflow
    reserve.reserve("o1")
    reserve.reserve("o1")  # a re-run does nothing
    with pytest.raises(InsufficientInventory, match="tea"):
        reserve.reserve("o2")
    mug = api.product_repo.get("mug")
    assert mug is not None
    assert (mug.available, mug.reserved) == (2, 3)

    commit = as_function(stack, monkeypatch, "UpdateInventoryFunction").order_workflow
    with pytest.raises(CommitFailed):
        commit.commit("o1")  # not paid yet
    pay = as_function(stack, monkeypatch, "ProcessPaymentFunction").order_workflow
    assert pay.charge("o1").payment is PaymentState.CHARGING  # the commit records CHARGED, with CONFIRMED
    assert pay.charge("o1").payment is PaymentState.CHARGING
    confirmed = commit.commit("o1")
    assert commit.commit("o1") == confirmed
    assert (confirmed.status, confirmed.inventory, confirmed.payment) == (
        OrderStatus.CONFIRMED,
        InventoryState.COMMITTED,
        PaymentState.CHARGED,
    )
    mug = api.product_repo.get("mug")
    assert mug is not None
    assert (mug.available, mug.reserved, mug.sold, mug.added) == (2, 0, 3, 5)

    release = as_function(stack, monkeypatch, "ReleaseInventoryFunction").order_workflow
    assert release.release("o1") is False  # committed: nothing to give back
    assert release.release("o2") is False  # never reserved


def test_release_gives_back_exactly_once(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    api = seed(stack, monkeypatch, {"mug": 4})
    api.order_repo.add(new_order("o1", (OrderLine("mug", 3, 250),), OrderStatus.PROCESSING), None)
    as_function(stack, monkeypatch, "CheckInventoryFunction").order_workflow.reserve("o1")
    release = as_function(stack, monkeypatch, "ReleaseInventoryFunction").order_workflow
    assert release.release("o1") is True
    assert release.release("o1") is False
    mug = api.product_repo.get("mug")
    assert mug is not None
    assert (mug.available, mug.reserved) == (4, 0)


def test_fifty_parallel_reservations_for_ten_units(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    api = seed(stack, monkeypatch, {"mug": 10})
    for i in range(50):
        api.order_repo.add(new_order(f"o{i}", (OrderLine("mug", 1, 250),), OrderStatus.PROCESSING), None)
    workflow = as_function(stack, monkeypatch, "CheckInventoryFunction").order_workflow

    def reserve(i: int) -> bool:
        try:
            workflow.reserve(f"o{i}")
        except InsufficientInventory:
            return False
        return True

    with ThreadPoolExecutor(max_workers=25) as pool:
        results = list(pool.map(reserve, range(50)))
    assert results.count(True) == 10
    mug = api.product_repo.get("mug")
    assert mug is not None
    assert (mug.available, mug.reserved) == (0, 10)


def test_payment_ledger_rules_and_refunds(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    payments = as_function(stack, monkeypatch, "ProcessPaymentFunction").payments
    payments.charge("o1", Money(500, "USD"), "tok_visa")
    payments.charge("o1", Money(500, "USD"), "tok_visa")
    with pytest.raises(PaymentFailed):
        payments.charge("o2", Money(500, "USD"), DECLINED_TOKEN)
    with pytest.raises(PaymentFailed):
        payments.charge("o3", Money(100_001, "USD"), "tok_visa")
    with pytest.raises(ServiceUnavailable):
        payments.charge("o4", Money(700, "USD"), FLAKY_TOKEN)
    payments.charge("o4", Money(700, "USD"), FLAKY_TOKEN)
    refunds = as_function(stack, monkeypatch, "CompensatePaymentFunction").payments
    assert refunds.refund("o1") is True
    assert refunds.refund("o1") is False
    assert refunds.refund("o2") is False
    items = aws(stack, "dynamodb").scan(TableName=stack.name("PaymentsTable"))["Items"]
    entries = sorted((i["orderId"]["S"], i["entry"]["S"], int(i["amount"]["N"])) for i in items if "amount" in i)
    assert entries == [("o1", "CHARGE", 500), ("o1", "REFUND", 500), ("o4", "CHARGE", 700)]


def test_workflow_start_is_once_per_order(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    sfn = aws(stack, "stepfunctions")
    definition = {"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}
    sfn.create_state_machine(
        name=stack.name("OrderWorkflow"), definition=json.dumps(definition), roleArn="arn:aws:iam::123456789012:role/r"
    )
    api = seed(stack, monkeypatch, {"mug": 1})
    order = api.orders.place("u1", [("mug", 1)]).order
    worker = as_function(stack, monkeypatch, "ProcessOrderFunction")
    assert worker.order_dispatcher.dispatch(order.id) == "started"
    assert worker.order_dispatcher.dispatch(order.id) == "duplicate"
    assert worker.order_repo.get(order.id) == order  # the dispatcher writes nothing: PENDING until the reservation
    executions = sfn.list_executions(stateMachineArn=stack.ref("OrderWorkflow"))["executions"]
    assert [e["name"] for e in executions] == [order.id]


def test_events_reach_the_bus(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    sqs, events = aws(stack, "sqs"), aws(stack, "events")
    url = sqs.create_queue(QueueName="capture-events")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    bus = stack.name("OrderEventBus")
    events.put_rule(Name="all", EventBusName=bus, EventPattern=json.dumps({"source": ["order-service"]}))
    events.put_targets(Rule="all", EventBusName=bus, Targets=[{"Id": "q", "Arn": arn}])
    api = seed(stack, monkeypatch, {"mug": 1})
    order = api.orders.place("u1", [("mug", 1)]).order
    confirmed = replace(new_order("confirmed-1", order.lines, OrderStatus.CONFIRMED), outbox="OrderProcessed")
    aws(stack, "dynamodb").put_item(TableName=stack.name("OrdersTable"), Item=to_item(order_values(confirmed)))
    notify = as_function(stack, monkeypatch, "SendNotificationFunction").order_workflow
    notify.notify(confirmed.id)
    notify.notify(confirmed.id)  # a retried task: the outbox is empty, nothing is sent twice
    assert api.order_repo.get(confirmed.id).outbox is None  # type: ignore[union-attr]
    fail = as_function(stack, monkeypatch, "MarkOrderFailedFunction").order_workflow
    assert fail.fail(order.id, "ValidationError").status is OrderStatus.FAILED
    assert fail.fail(order.id, "ValidationError").reason == "ValidationError"  # a re-run finds it done
    received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1)["Messages"]
    envelopes = [json.loads(m["Body"]) for m in received]
    assert sorted(e["detail-type"] for e in envelopes) == ["OrderFailed", "OrderProcessed"]
    assert {e["source"] for e in envelopes} == {"order-service"}
    failed = next(e for e in envelopes if e["detail-type"] == "OrderFailed")
    assert (failed["detail"]["reason"], failed["detail"]["version"]) == ("ValidationError", 1)
