"""Edge paths of the downstream adapters on the local cloud: stock flags, claim races, the printer."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from app.adapters.dynamodb.idempotency import DynamoIdempotencyRecords
from app.adapters.dynamodb.products import HOT_SECONDS, DynamoProductRepository, DynamoStockWatch
from app.domain.money import Money
from infra.local.notifications import NotificationPrinter
from infra.local.provision import client as aws
from infra.local.template import Stack

NOW = datetime(2026, 11, 26, tzinfo=UTC)


def test_stock_flag_is_set_once_cleared_by_unmark_and_never_created_for_unknown_products(stack: Stack) -> None:
    dynamodb = aws(stack, "dynamodb")
    products = DynamoProductRepository(dynamodb, stack.name("ProductsTable"))
    products.upsert("mug", "Mug", Money(500, "USD"), NOW)
    products.restock("mug", 2, NOW)
    watch = DynamoStockWatch(dynamodb, stack.name("ProductsTable"))
    assert (watch.mark_low("mug", 5), watch.mark_low("mug", 5)) == (2, None)
    watch.unmark("mug")
    watch.unmark("mug")  # nothing to clear: a no-op
    assert watch.mark_low("mug", 5) == 2
    assert watch.mark_low("ghost", 5) is None
    watch.unmark("ghost")
    assert products.get("ghost") is None


class CountingClient:
    """Delegates to DynamoDB and counts each operation called."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.calls: list[str] = []

    def __getattr__(self, name: str) -> Any:
        self.calls.append(name)
        return getattr(self.client, name)


def test_stock_watch_writes_only_when_the_flag_must_change(stack: Stack) -> None:
    dynamodb = aws(stack, "dynamodb")
    table = stack.name("ProductsTable")
    products = DynamoProductRepository(dynamodb, table)
    for product, stock in (("pen", 9), ("ink", 3)):
        products.upsert(product, product.title(), Money(100, "USD"), NOW)
        products.restock(product, stock, NOW)
    counting = CountingClient(dynamodb)
    watch = DynamoStockWatch(counting, table)
    assert watch.mark_low("pen", 5) is None  # above the threshold and never flagged: nothing is written
    assert counting.calls == ["get_item"]
    counting.calls.clear()
    assert watch.mark_low("ink", 5) == 3
    assert watch.mark_low("ink", 5) is None  # flagged already: read only
    assert counting.calls == ["get_item", "update_item", "get_item"]
    products.restock("ink", 10, NOW)
    counting.calls.clear()
    assert watch.mark_low("ink", 5) is None  # back above: the flag is cleared
    assert counting.calls == ["get_item", "update_item"]
    assert "lowStockAlert" not in dynamodb.get_item(TableName=table, Key={"productId": {"S": "ink"}})["Item"]
    assert watch.mark_low("ink", 20) == 13  # the next dip is announced again


class UnprocessedBatch(CountingClient):
    """Delegates to DynamoDB, except that a batch read comes back unprocessed, as a throttled one does."""

    def batch_get_item(self, **args: Any) -> Any:
        self.calls.append("batch_get_item")
        return {"Responses": {}, "UnprocessedKeys": args["RequestItems"]}


def test_a_sharded_products_dip_is_summed_over_its_shards_and_never_from_a_partial_read(stack: Stack) -> None:
    dynamodb = aws(stack, "dynamodb")
    table = stack.name("ProductsTable")
    products = DynamoProductRepository(dynamodb, table)
    products.upsert("lamp", "Lamp", Money(100, "USD"), NOW)
    products.add_shards("lamp", 3, NOW)
    products.restock("lamp", 4, NOW)  # 2, 1, 1
    clock = [0.0]
    throttled = DynamoStockWatch(UnprocessedBatch(dynamodb), table, lambda: clock[0])
    assert throttled.mark_low("lamp", 5) is None  # shard 0 alone (2) would look like a dip: no decision
    counting = CountingClient(dynamodb)
    watch = DynamoStockWatch(counting, table, lambda: clock[0])
    assert watch.mark_low("lamp", 5) == 4  # the sum of the three shards
    assert counting.calls == ["get_item", "batch_get_item", "update_item"]
    counting.calls.clear()
    assert watch.mark_low("lamp", 5) is None  # within HOT_SECONDS: not one read of the sale's items
    assert counting.calls == []
    clock[0] += HOT_SECONDS
    assert watch.mark_low("lamp", 5) is None  # summed again (flagged already: nothing to announce)
    assert counting.calls == ["get_item", "batch_get_item"]
    assert "lowStockAlert" in dynamodb.get_item(TableName=table, Key={"productId": {"S": "lamp"}})["Item"]


class ReclaimingClient:
    """Delegates to DynamoDB; right after a scan, re-claims the first key found (a concurrent POST)."""

    def __init__(self, client: Any, table: str) -> None:
        self.client = client
        self.table = table

    def scan(self, **args: Any) -> Any:
        result = self.client.scan(**args)
        for item in result.get("Items", [])[:1]:
            self.client.update_item(
                TableName=self.table,
                Key=item,
                UpdateExpression="SET expiresAt = :later",
                ExpressionAttributeValues={":later": {"N": str(int(NOW.timestamp()) + 3600)}},
            )
        return result

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)


def test_purge_pages_through_claims_and_keeps_one_reclaimed_meanwhile(stack: Stack) -> None:
    dynamodb = aws(stack, "dynamodb")
    table = stack.name("IdempotencyTable")
    for key in ("a", "b", "c"):
        dynamodb.put_item(TableName=table, Item={"idempotencyKey": {"S": key}, "expiresAt": {"N": "1"}})
    records = DynamoIdempotencyRecords(ReclaimingClient(dynamodb, table), table)
    total, start, pages = 0, None, 0
    while True:
        deleted, start = records.purge_expired(NOW, 1, start)
        total, pages = total + deleted, pages + 1
        if start is None:
            break
    left = dynamodb.scan(TableName=table)["Items"]
    assert pages >= 3
    assert total == 0  # each page's only claim was re-claimed before its delete
    assert len(left) == 3


def test_printer_shows_a_raw_message_as_is(stack: Stack) -> None:
    printed: list[str] = []
    printer = NotificationPrinter(stack, log=printed.append)
    printer.start()
    try:
        aws(stack, "sqs").send_message(QueueUrl=printer.queue_url, MessageBody="not an SNS envelope")
        deadline = 0
        while not printed and deadline < 10:
            printer.poll_once()
            deadline += 1
    finally:
        printer.stop()
    assert "[notification] not an SNS envelope" in printed
