"""DynamoDB implementation of AnalyticsStore (Analytics table).

Analytics items: `pk = DAY#<yyyy-mm-dd>` (or `DAY#<yyyy-mm-dd>#<k>`, see SHARDS) with `sk` UNITS#<productId>:
`units` sold, and, on the item of the order's first product (by id), the order itself: `orders` and
`amount_<currency>`. Each is only ever changed by ADD. A day's totals are the sums of its items. An order of one
product thus changes one aggregate item: every item of the transaction costs 2 write units, and the day's own
sales item (SALES#<currency>, still read) cost every order 2 more. Days written before SALES# existed hold TOTAL
(orders) and REVENUE#<currency> (amount); those are read too. `pk = EVENT#<sale id>` (one per order) is the
marker that makes an order count once: it is put, conditionally, in the same transaction as the ADDs.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from app.adapters.aws_errors import CONDITION_FAILED, cancellation_codes
from app.adapters.dynamodb import writes
from app.adapters.dynamodb.items import from_item, to_item
from app.domain.errors import ServiceUnavailable
from app.services.ports.events import DailyAggregate, Sale

MARKER_TTL = timedelta(days=30)  # far longer than EventBridge retries (24 h at most)
# Every order of a day adds to that day's items, 4 write units an order on one partition key: one key would cap
# the whole shop at 250 orders a second. Each sale adds to one of SHARDS keys, chosen by its id; a day's read
# queries them all. Fixed: a sale counted under a shard past a lowered count would no longer be read.
SHARDS = 32
AMOUNT = "amount_"  # + the currency: an order's amount, on the item of its first product
_READERS = 8


def day_key(day: date, shard: int = 0) -> str:
    """The partition key of one of a day's shards (shard 0 is the key days had before shards)."""
    return f"DAY#{day.isoformat()}" if shard == 0 else f"DAY#{day.isoformat()}#{shard}"


def shard_of(sale_id: str) -> int:
    """The day shard a sale adds to (stable, so that a retried event adds to the same items)."""
    return zlib.crc32(sale_id.encode()) % SHARDS


class DynamoAnalytics:
    """Daily aggregates, counted with atomic ADD, once per event id."""

    def __init__(self, client: Any, table: str, clock: Callable[[], datetime]) -> None:
        self.client = client
        self.table = table
        self.clock = clock

    def record(self, sale_id: str, sale: Sale) -> bool:
        """One transaction: the event's marker (if absent) and every ADD; False if the marker existed."""
        expires = int((self.clock() + MARKER_TTL).timestamp())
        marker = {
            "Put": {
                "TableName": self.table,
                "Item": to_item(
                    {"pk": f"EVENT#{sale_id}", "sk": "EVENT", "day": sale.day.isoformat(), "expiresAt": expires}
                ),
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        }
        pk = day_key(sale.day, shard_of(sale_id))
        lines = sorted(sale.units.items())
        adds = [self._units(pk, product, qty, sale if i == 0 else None) for i, (product, qty) in enumerate(lines)]
        try:
            writes.transact(self.client, [marker, *adds])
        except ClientError as exc:
            codes = cancellation_codes(exc)
            if codes[:1] == [CONDITION_FAILED]:
                return False
            if "TransactionConflict" in codes:
                raise ServiceUnavailable("a concurrent transaction touched the same aggregate, retry") from exc
            raise
        return True

    def _units(self, pk: str, product: str, quantity: int, order: Sale | None) -> dict[str, Any]:
        """ADD the product's units; on the order's first product, the order and its amount as well."""
        update, values = "ADD units :q", {":q": quantity}
        names: dict[str, str] = {}
        if order is not None:
            update += ", orders :one, #amount :v"
            values |= {":one": 1, ":v": order.revenue}
            names["#amount"] = f"{AMOUNT}{order.currency}"
        change: dict[str, Any] = {
            "TableName": self.table,
            "Key": to_item({"pk": pk, "sk": f"UNITS#{product}"}),
            "UpdateExpression": update,
            "ExpressionAttributeValues": to_item(values),
        }
        if names:
            change["ExpressionAttributeNames"] = names
        return {"Update": change}

    def days(self, first: date, last: date) -> list[DailyAggregate]:
        """One Query per day and shard (every page of it), oldest first; days without items are left out."""
        # Counted, not stepped past `last`: the day after date.max does not exist.
        days = [first + timedelta(days=offset) for offset in range((last - first).days + 1)]
        keys = [(day, day_key(day, shard)) for day in days for shard in range(SHARDS)]
        with ThreadPoolExecutor(_READERS) as pool:  # boto3 clients are thread-safe; the queries wait on I/O
            pages = list(pool.map(lambda key: self._query(key[1]), keys))
        items: dict[date, list[dict[str, Any]]] = {}
        for (day, _), found in zip(keys, pages, strict=True):
            items.setdefault(day, []).extend(found)
        return [_aggregate(day, items[day]) for day in days if items[day]]

    def _query(self, pk: str) -> list[dict[str, Any]]:
        args: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": to_item({":pk": pk}),
        }
        items: list[dict[str, Any]] = []
        while True:
            result = self.client.query(**args)
            items += [from_item(i) for i in result.get("Items", [])]
            if "LastEvaluatedKey" not in result:
                return items
            args["ExclusiveStartKey"] = result["LastEvaluatedKey"]


def _aggregate(day: date, items: list[dict[str, Any]]) -> DailyAggregate:
    orders = 0
    revenue: dict[str, int] = {}
    units: dict[str, int] = {}
    for item in items:
        kind, _, name = str(item["sk"]).partition("#")
        if kind in ("SALES", "TOTAL"):
            orders += int(item.get("orders", 0))
        if kind in ("SALES", "REVENUE"):
            revenue[name] = revenue.get(name, 0) + int(item.get("amount", 0))
        elif kind == "UNITS":
            units[name] = units.get(name, 0) + int(item.get("units", 0))
            orders += int(item.get("orders", 0))
            for attribute, value in item.items():
                if attribute.startswith(AMOUNT):
                    currency = attribute.removeprefix(AMOUNT)
                    revenue[currency] = revenue.get(currency, 0) + int(value)
    return DailyAggregate(day=day, orders=orders, revenue=revenue, units=units)
