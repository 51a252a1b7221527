"""A flash sale on the local cloud's DynamoDB: concurrent reservations, a reshard and a restock while they run."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

import pytest

from app.adapters.dynamodb import product_items as layout
from app.adapters.dynamodb.inventory import DynamoInventory
from app.adapters.dynamodb.items import to_item
from app.adapters.dynamodb.orders import DynamoOrderRepository
from app.adapters.dynamodb.products import DynamoProductRepository
from app.adapters.dynamodb.stock_shards import ShardCounts
from app.domain.errors import InsufficientInventory, ServiceUnavailable
from app.domain.money import Money
from app.domain.orders import Order, OrderLine, OrderStatus
from infra.local.provision import client as aws
from infra.local.template import Stack

T0 = datetime(2026, 12, 7, tzinfo=UTC)
ORDERS, THREADS, UNITS, RESTOCK = 48, 8, 30, 6


def on_sale(stack: Stack, product_id: str, units: int) -> tuple[Any, DynamoOrderRepository, DynamoProductRepository]:
    """A product in 4 stock shards with `units` spread over them, and the repositories that sold it."""
    dynamodb = aws(stack, "dynamodb")
    orders = DynamoOrderRepository(dynamodb, stack.name("OrdersTable"), stack.name("IdempotencyTable"))
    products = DynamoProductRepository(dynamodb, stack.name("ProductsTable"), ShardCounts())
    products.upsert(product_id, product_id.title(), Money(500, "USD"), T0)
    products.add_shards(product_id, 4, T0)
    products.restock(product_id, units, T0)
    return dynamodb, orders, products


@pytest.mark.slow
def test_concurrent_orders_sell_exactly_the_units_there_are_while_shards_and_stock_are_added(stack: Stack) -> None:
    dynamodb, orders, products = on_sale(stack, "mug", UNITS)
    placed = []
    for i in range(ORDERS):
        order = Order(f"o-{i:03}", "ada", (OrderLine("mug", 1, 500),), "USD", OrderStatus.PENDING, T0, T0)
        orders.add(order, None)
        placed.append(orders.transition(order.id, OrderStatus.PROCESSING, T0))
    outcomes: dict[str, str] = {}
    lock = threading.Lock()

    def shopper(mine: list[Order]) -> None:
        inventory = DynamoInventory(dynamodb, stack.name("ProductsTable"), orders, ShardCounts())  # its own process
        for order in mine:
            while True:  # as the saga retries ServiceUnavailable
                try:
                    inventory.reserve(order, T0)
                    outcome = "reserved"
                except InsufficientInventory:
                    outcome = "short"
                except ServiceUnavailable:
                    continue
                with lock:
                    outcomes[order.id] = outcome
                break

    threads = [threading.Thread(target=shopper, args=(placed[i::THREADS],)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    products.add_shards("mug", 8, T0)  # while orders flow
    products.restock("mug", RESTOCK, T0)
    for thread in threads:
        thread.join(timeout=300)

    mug = products.get("mug")
    assert mug is not None
    reserved = sum(1 for o in outcomes.values() if o == "reserved")
    assert len(outcomes) == ORDERS
    assert reserved == UNITS + RESTOCK  # not one more (oversell), not one fewer (a refusal while units were left)
    assert (mug.shards, mug.available, mug.reserved, mug.sold, mug.added) == (8, 0, UNITS + RESTOCK, 0, UNITS + RESTOCK)
    taken = [orders.get(o.id) for o in placed if outcomes[o.id] == "reserved"]
    assert sum(t.quantity for o in taken if o is not None for t in o.takes()) == UNITS + RESTOCK


def test_a_process_that_never_saw_the_product_spreads_its_first_orders_over_the_shards(stack: Stack) -> None:
    dynamodb, orders, products = on_sale(stack, "lamp", 40)  # 10 a shard: shard 0 alone could serve all eight
    inventory = DynamoInventory(dynamodb, stack.name("ProductsTable"), orders, ShardCounts())  # a new process
    for i in range(8):
        order = Order(f"l-{i}", "ada", (OrderLine("lamp", 1, 500),), "USD", OrderStatus.PENDING, T0, T0)
        orders.add(order, None)
        inventory.reserve(orders.transition(order.id, OrderStatus.PROCESSING, T0), T0)
    taken = {t.shard for i in range(8) if (o := orders.get(f"l-{i}")) is not None for t in o.takes()}
    assert len(taken) > 1  # not every order on the product's own item until it runs dry
    lamp = products.get("lamp")
    assert lamp is not None
    assert (lamp.available, lamp.reserved) == (32, 8)


def test_the_sold_out_flag_holds_only_while_the_head_is_as_the_empty_snapshot_saw_it(stack: Stack) -> None:
    dynamodb, orders, products = on_sale(stack, "cup", 0)
    inventory = DynamoInventory(dynamodb, stack.name("ProductsTable"), orders, ShardCounts())
    shards, seen = inventory._snapshots({"cup": None})
    assert len(shards["cup"]) == 4
    assert all(s["available"] == s["reserved"] == 0 for s in shards["cup"])  # the snapshot saw it empty
    # After the snapshot, a restock whose split leaves the head nothing (3 units on shard 3): as restock writes it,
    # the head's own update (its updatedAt) and the shard's ADD in one transaction. The head alone still looks empty.
    table = stack.name("ProductsTable")
    head = {
        "TableName": table,
        "Key": layout.key("cup"),
        "UpdateExpression": layout.RESTOCK,
        "ExpressionAttributeValues": to_item({":q": 0, ":now": "2026-12-07T00:01:00+00:00"}),
    }
    shard = {
        "TableName": table,
        "Key": layout.shard_key("cup", 3),
        "UpdateExpression": layout.SHARD_RESTOCK,
        "ExpressionAttributeValues": to_item({":q": 3}),
    }
    dynamodb.transact_write_items(TransactItems=[{"Update": head}, {"Update": shard}])
    inventory._mark_sold_out(["cup"], seen)
    assert products.get("cup").sold_out is False  # type: ignore[union-attr]  # the restocked units stay on sale
    dynamodb, _, _ = on_sale(stack, "bowl", 0)
    _, untouched = inventory._snapshots({"bowl": None})
    inventory._mark_sold_out(["bowl"], untouched)
    assert products.get("bowl").sold_out is True  # type: ignore[union-attr]  # nothing changed since: flagged
