"""The flash-sale capacity model: units per key family from recorded calls, and the rate one product sustains."""

from __future__ import annotations

from typing import Any

import pytest

from app.adapters.dynamodb.analytics import SHARDS as ANALYTICS_SHARDS
from infra.bench import capacity
from infra.local.template import Stack, load_template

STACK = Stack(load_template(), "http://127.0.0.1")
PRODUCTS, ORDERS, ANALYTICS = (STACK.name(t) for t in ("ProductsTable", "OrdersTable", "AnalyticsTable"))


def _update(table: str, key: dict[str, Any]) -> dict[str, Any]:
    return {"Update": {"TableName": table, "Key": key, "UpdateExpression": "SET a = :a"}}


def one_order(order_id: str, day_shard: int) -> list[tuple[str, str, str, dict[str, Any]]]:
    """The calls of one order on the keys a sale shares, as the bench records them."""
    mug, order = {"productId": {"S": "mug"}}, {"orderId": {"S": order_id}}
    day = {"pk": {"S": f"DAY#2026-12-07#{day_shard}" if day_shard else "DAY#2026-12-07"}, "sk": {"S": "SALES#USD"}}
    units = {"pk": day["pk"], "sk": {"S": "UNITS#mug"}}
    reads = {"RequestItems": {PRODUCTS: {"Keys": [mug], "ConsistentRead": True}}}
    move = {"TransactItems": [_update(ORDERS, order), _update(PRODUCTS, mug)]}
    return [
        ("ApiFunction", "dynamodb", "BatchGetItem", reads),  # pricing
        ("ValidateOrderFunction", "dynamodb", "BatchGetItem", reads),  # the price check
        ("CheckInventoryFunction", "dynamodb", "TransactWriteItems", move),  # reserve
        ("UpdateInventoryFunction", "dynamodb", "TransactWriteItems", move),  # commit
        ("OrderEventsFunction", "dynamodb", "GetItem", {"TableName": PRODUCTS, "Key": mug, "ConsistentRead": True}),
        (
            "OrderEventsFunction",
            "dynamodb",
            "TransactWriteItems",
            {"TransactItems": [_update(ANALYTICS, day), _update(ANALYTICS, units)]},
        ),
        ("ApiFunction", "dynamodb", "PutItem", {"TableName": ORDERS, "Item": order}),
    ]


@pytest.fixture
def loads() -> list[capacity.KeyLoad]:
    trace = [call for i in range(4) for call in one_order(f"o-{i}", day_shard=i)]
    return capacity.per_key(trace, STACK, orders=4)


def test_units_are_counted_per_key_family_with_dynamodbs_rules(loads: list[capacity.KeyLoad]) -> None:
    by_family = {(k.table, k.family): k for k in loads}
    mug = by_family[("ProductsTable", "mug")]
    assert (mug.write, mug.read, mug.shards) == (4.0, 3.0, 1)  # two transactions; three consistent reads
    day = by_family[("AnalyticsTable", "DAY#2026-12-07")]  # four shards' keys summed into their family
    assert (day.write, day.shards) == (4.0, ANALYTICS_SHARDS)
    assert by_family[("OrdersTable", "o-0")].write == pytest.approx(5 / 4)  # one order's key, over four orders


def test_one_shard_takes_250_orders_a_second_and_twenty_take_5000(loads: list[capacity.KeyLoad]) -> None:
    hot = capacity.shared(loads, "mug")
    assert {k.family for k in hot} == {"mug", "DAY#2026-12-07"}  # no order's or shopper's own key
    assert capacity.sustained(hot, "mug", 1) == (250.0, "ProductsTable mug writes")
    assert capacity.sustained(hot, "mug", 20) == (5000.0, "ProductsTable mug writes")
    rate, limit = capacity.sustained(hot, "mug", 64)  # past 32 shards the day's sales are the limit
    assert (rate, limit) == (1000 / (4 / ANALYTICS_SHARDS), "AnalyticsTable DAY#2026-12-07 writes")
