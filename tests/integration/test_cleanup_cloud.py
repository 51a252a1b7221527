"""The daily cleanup on the local cloud: every page, a controlled clock, stock released, claims purged."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

import workers.cleanup
import workers.common
from app.adapters.dynamodb.imports import DynamoImportRepository
from app.adapters.dynamodb.inventory import DynamoInventory
from app.adapters.dynamodb.items import to_item
from app.adapters.dynamodb.orders import DynamoOrderRepository, order_values
from app.adapters.dynamodb.payments import SimulatedPaymentGateway
from app.adapters.dynamodb.products import DynamoProductRepository
from app.domain.catalog_import import CatalogImport, ImportStatus, object_key
from app.domain.money import Money
from app.domain.orders import Order, OrderLine, OrderStatus
from infra.local.payloads import LambdaContext
from infra.local.provision import client as aws
from infra.local.template import Stack
from tests.support.event_helpers import as_worker, capture_events, drain

T0 = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)


def order(order_id: str, created: datetime, status: OrderStatus = OrderStatus.PENDING, qty: int = 1) -> Order:
    return Order(order_id, "ada", (OrderLine("mug", qty, 500),), "USD", status, created, created)


def put_orders(stack: Stack, orders: list[Order]) -> None:
    dynamodb = aws(stack, "dynamodb")
    table = stack.name("OrdersTable")
    for start in range(0, len(orders), 25):
        batch = [{"PutRequest": {"Item": to_item(order_values(o))}} for o in orders[start : start + 25]]
        dynamodb.batch_write_item(RequestItems={table: batch})


def queued_ids(stack: Stack, expected: int) -> list[str]:
    return [m["orderId"] for m in drain(stack, stack.ref("OrderQueue"), expected)]


def test_cleanup_reads_every_page_and_requeues_each_lost_order(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    lost = [order(f"lost-{i:03d}", T0) for i in range(250)]
    young = [order(f"young-{i}", T0 + timedelta(minutes=50)) for i in range(3)]
    done = [order(f"done-{i}", T0, OrderStatus.CONFIRMED) for i in range(2)]
    put_orders(stack, lost + young + done)
    as_worker(stack, monkeypatch, "CleanupFunction")
    service = workers.common.services().cleanup(clock=lambda: T0 + timedelta(hours=1))
    assert service.policy.page_size == 100

    report = service.run(LambdaContext(remaining_ms=290_000).get_remaining_time_in_millis)

    assert (report.pages, report.scanned, report.requeued, report.complete) == (3, 250, 250, True)
    assert sorted(queued_ids(stack, 250)) == sorted(o.id for o in lost)


def test_cleanup_stops_before_the_timeout_and_the_next_run_finishes(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    put_orders(stack, [order(f"lost-{i:03d}", T0) for i in range(150)])
    as_worker(stack, monkeypatch, "CleanupFunction")
    service = workers.common.services().cleanup(clock=lambda: T0 + timedelta(hours=1))
    budget = iter([60_000, 3_000])
    first = service.run(lambda: next(budget))
    assert (first.pages, first.complete) == (1, False)
    second = service.run(lambda: 60_000)
    assert (second.pages, second.complete) == (2, True)
    assert len(set(queued_ids(stack, 150 + first.requeued))) == 150  # a re-enqueue is harmless: dispatch is idempotent


def test_an_expired_order_releases_its_stock_refunds_and_fails(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    dynamodb = aws(stack, "dynamodb")
    products = DynamoProductRepository(dynamodb, stack.name("ProductsTable"))
    products.upsert("mug", "Mug", Money(500, "USD"), T0)
    products.restock("mug", 10, T0)
    repo = DynamoOrderRepository(dynamodb, stack.name("OrdersTable"), stack.name("IdempotencyTable"))
    inventory = DynamoInventory(dynamodb, stack.name("ProductsTable"), repo)
    stuck, charged = order("stuck", T0, OrderStatus.PROCESSING, 2), order("charged", T0, OrderStatus.PROCESSING, 3)
    put_orders(stack, [stuck, charged])
    for o in (stuck, charged):
        inventory.reserve(o, T0)
    repo.start_payment("charged", T0)
    SimulatedPaymentGateway(dynamodb, stack.name("PaymentsTable"), 100_000, lambda: T0).charge(
        "charged", Money(1500, "USD"), "tok_visa"
    )
    failed_events = capture_events(stack, "OrderFailed")
    as_worker(stack, monkeypatch, "CleanupFunction")
    service = workers.common.services().cleanup(clock=lambda: T0 + timedelta(hours=25))

    report = service.run(lambda: 60_000)

    assert (report.expired, report.released, report.refunded) == (2, 2, 1)
    for order_id in ("stuck", "charged"):
        current = repo.get(order_id)
        assert current is not None
        assert (current.status, current.reason) == (OrderStatus.FAILED, "Expired")
    mug = products.get("mug")
    assert mug is not None
    assert (mug.available, mug.reserved, mug.sold) == (10, 0, 0)
    ledger = dynamodb.query(
        TableName=stack.name("PaymentsTable"),
        KeyConditionExpression="orderId = :o",
        ExpressionAttributeValues={":o": {"S": "charged"}},
    )["Items"]
    assert sorted(i["entry"]["S"] for i in ledger if "amount" in i) == ["CHARGE", "REFUND"]
    events = drain(stack, failed_events, 2)
    assert sorted((e["detail"]["orderId"], e["detail"]["reason"]) for e in events) == [
        ("charged", "Expired"),
        ("stuck", "Expired"),
    ]
    again = service.run(lambda: 60_000)  # idempotent
    assert (again.scanned, again.expired, again.released, again.refunded) == (0, 0, 0, 0)


def test_the_handler_purges_expired_claims_and_reports_counts_as_metrics(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    dynamodb = aws(stack, "dynamodb")
    now = int(datetime.now(UTC).timestamp())
    for key, expires in {"old-1": now - 10, "old-2": now - 86_400, "live": now + 3_600}.items():
        item = {"idempotencyKey": {"S": key}, "orderId": {"S": "o"}, "fingerprint": {"S": "f"}}
        dynamodb.put_item(TableName=stack.name("IdempotencyTable"), Item={**item, "expiresAt": {"N": str(expires)}})
    put_orders(stack, [order("ancient", datetime.now(UTC) - timedelta(minutes=30))])
    imports = DynamoImportRepository(dynamodb, stack.name("ImportsTable"), stack.name("ProductsTable"))
    stalled = {"a" * 32: ImportStatus.PENDING, "b" * 32: ImportStatus.RUNNING}
    for import_id, status in {**stalled, "c" * 32: ImportStatus.PENDING}.items():
        since = datetime.now(UTC) - (timedelta(minutes=5) if import_id.startswith("c") else timedelta(days=1))
        record = CatalogImport(import_id, status, object_key(import_id), since, since)
        imports.create(record, since + timedelta(days=30))
    as_worker(stack, monkeypatch, "CleanupFunction")

    result = workers.cleanup.handler({"detail-type": "Scheduled Event"}, LambdaContext(remaining_ms=290_000))

    assert result == {
        "scanned": 1,
        "requeued": 1,
        "expired": 0,
        "released": 0,
        "refunded": 0,
        "purged": 2,
        "pages": 1,
        "errors": 0,
        "complete": True,
        "reconciled": 0,
        "published": 0,
        "importsStalled": 2,
    }
    swept = {i: imports.get(i) for i in [*stalled, "c" * 32]}
    assert {i: (r.status, r.reason) for i, r in swept.items() if r} == {
        "a" * 32: (ImportStatus.FAILED, "stalled"),
        "b" * 32: (ImportStatus.FAILED, "stalled"),
        "c" * 32: (ImportStatus.PENDING, None),  # its upload URL is still valid
    }
    left = dynamodb.scan(TableName=stack.name("IdempotencyTable"))["Items"]
    assert [i["idempotencyKey"]["S"] for i in left] == ["live"]
    emf = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    assert [(r["OrdersRequeued"], r["IdempotencyRecordsPurged"], r["OrdersExpired"]) for r in emf] == [
        ([1.0], [2.0], [0.0])
    ]
