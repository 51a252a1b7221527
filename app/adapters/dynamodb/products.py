"""DynamoDB implementation of ProductRepository.

The item layout and every stock expression live in product_items; counters change only by atomic ADD or
in transactions (see inventory), never by read-modify-write.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from app.adapters.aws_errors import CONDITION_FAILED, cancellation_codes, is_condition_failed
from app.adapters.dynamodb import product_items as layout
from app.adapters.dynamodb import reads, writes
from app.adapters.dynamodb.items import from_item, to_item
from app.adapters.dynamodb.stock_shards import SEEN, ShardCounts
from app.domain.errors import Conflict, NotFound, ServiceUnavailable
from app.domain.money import Money
from app.domain.products import Product
from app.services.ports.common import Page, PageKey

HOT_SECONDS = 1.0  # how long a sharded product's catalog view is reused by get_many


def _still(shards: int) -> str:
    """The condition that the product still has `shards` shards (':n'); one shard may be unrecorded."""
    counted = f"{layout.SHARDS} = :n"
    return f"{layout.EXISTS} AND (attribute_not_exists({layout.SHARDS}) OR {counted})" if shards == 1 else counted


_COUNT_ONLY = f"{layout.KEY}, {layout.SHARDS}"


def _shard_restock(table: str, product_id: str, shard: int, quantity: int) -> dict[str, Any]:
    return {
        "Update": {
            "TableName": table,
            "Key": layout.shard_key(product_id, shard),
            "UpdateExpression": layout.SHARD_RESTOCK,
            "ConditionExpression": layout.EXISTS,
            "ExpressionAttributeValues": to_item({":q": quantity}),
        }
    }


class DynamoProductRepository:
    """Products keyed by productId (and their stock shards, `<id>#shard<k>`)."""

    def __init__(
        self,
        client: Any,
        table: str,
        seen: ShardCounts = SEEN,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.table = table
        self.seen = seen
        self.monotonic = monotonic
        self.hot: dict[str, tuple[float, Product]] = {}

    def upsert(self, product_id: str, name: str, price: Money, now: datetime) -> Product:
        """Create with zero stock, or change name and price; counters are kept."""
        result = self.client.update_item(
            TableName=self.table,
            Key=layout.key(product_id),
            UpdateExpression=layout.UPSERT,
            ExpressionAttributeNames=layout.NAMES,
            ExpressionAttributeValues=layout.details(name, price, now),
            ReturnValues="ALL_NEW",
        )
        if layout.shards_of(result["Attributes"]) > 1:
            return self._read_back(product_id)  # the counters are the shards' sums
        return layout.to_product(result["Attributes"])

    def restock(self, product_id: str, quantity: int, now: datetime) -> Product:
        """ADD to available and added, spread over the product's shards in one transaction, then read it.

        A transaction even for one shard: an ADD whose answer is lost is applied again by the SDK's retry, and
        only a transaction's ClientRequestToken makes that retry write nothing (a restock is an admin's or an
        import's, rare enough for the second write unit and the read).
        """
        for _ in range(2):  # a second time only if the product gained shards between the read and the write
            shards = self._shards(product_id)
            parts = layout.split(quantity, shards)
            head = {
                "TableName": self.table,
                "Key": layout.key(product_id),
                "UpdateExpression": layout.RESTOCK,
                "ConditionExpression": _still(shards),
                "ExpressionAttributeValues": to_item({":q": parts[0], ":now": now.isoformat(), ":n": shards}),
            }
            items = [
                {"Update": head},
                *(_shard_restock(self.table, product_id, k, q) for k, q in enumerate(parts) if k and q),
            ]
            try:
                writes.transact(self.client, items)
                break
            except ClientError as exc:
                if cancellation_codes(exc)[:1] != [CONDITION_FAILED]:
                    raise
        else:
            raise ServiceUnavailable(f"product {product_id} is being resharded, retry")
        return self._read_back(product_id)

    def add_shards(self, product_id: str, count: int, now: datetime) -> Product:
        """Grow the product to `count` stock shards: new empty shard items and the count, in one transaction.

        Conditional on the count read first, so two admins growing it at once cannot both succeed; orders keep
        flowing meanwhile, since no counter moves.
        """
        shards = self._shards(product_id)
        head = {
            "TableName": self.table,
            "Key": layout.key(product_id),
            "UpdateExpression": f"SET {layout.SHARDS} = :new, updatedAt = :now",
            "ConditionExpression": _still(shards),
            "ExpressionAttributeValues": to_item({":new": count, ":n": shards, ":now": now.isoformat()}),
        }
        new = [
            {
                "Put": {
                    "TableName": self.table,
                    "Item": layout.new_shard(product_id, k, now),
                    "ConditionExpression": layout.ABSENT,
                }
            }
            for k in range(shards, count)
        ]
        try:
            writes.transact(self.client, [{"Update": head}, *new])
        except ClientError as exc:
            if not cancellation_codes(exc):
                raise
            raise Conflict(f"product {product_id} was resharded meanwhile: read it and try again") from exc
        self.seen.saw(product_id, count)
        return self._read_back(product_id)

    def _read_back(self, product_id: str) -> Product:
        self.hot.pop(product_id, None)
        product = self.get(product_id)
        if product is None:  # deleted since: products are never deleted, but say so rather than guess
            raise NotFound(f"product {product_id} not found")
        return product

    def _shards(self, product_id: str) -> int:
        item = self.client.get_item(
            TableName=self.table,
            Key=layout.key(product_id),
            ConsistentRead=True,
            ProjectionExpression=_COUNT_ONLY,
        ).get("Item")
        if item is None:
            raise NotFound(f"product {product_id} not found")
        count = layout.shards_of(item)
        self.seen.saw(product_id, count)
        return count

    def get(self, product_id: str) -> Product | None:
        """The product, read consistently; a sharded product's counters from one snapshot of every shard."""
        item = self.client.get_item(TableName=self.table, Key=layout.key(product_id), ConsistentRead=True).get("Item")
        if item is None:
            return None
        shards = layout.shards_of(item)
        self.seen.saw(product_id, shards)
        if shards == 1:
            return layout.to_product(item)
        keys = [{"Get": {"TableName": self.table, "Key": layout.shard_key(product_id, k)}} for k in range(shards)]
        found = [r["Item"] for r in self.client.transact_get_items(TransactItems=keys)["Responses"] if "Item" in r]
        return layout.to_product(found[0], found[1:])

    def get_many(self, product_ids: Collection[str]) -> dict[str, Product]:
        """BatchGetItem in chunks of 100, retrying unprocessed keys; sharded products summed over their shards.

        A sharded product is on sale: its summed view is kept for HOT_SECONDS, so that every order's read does not
        land on its one item (docs/decisions/0012-stock-shards.md says why prices may lag that long).
        """
        now = self.monotonic()
        found = {i: p for i in product_ids if (p := self._fresh(i, now)) is not None}
        heads = self._batch([layout.key(i) for i in dict.fromkeys(product_ids) if i not in found])
        sharded = {pid: item for pid, item in heads.items() if layout.shards_of(item) > 1}
        extra = self._batch(
            [layout.shard_key(pid, k) for pid, item in sharded.items() for k in range(1, layout.shards_of(item))]
        )
        for pid, item in heads.items():
            shards = layout.shards_of(item)
            self.seen.saw(pid, shards)
            others = [extra[layout.shard_id(pid, k)] for k in range(1, shards) if layout.shard_id(pid, k) in extra]
            found[pid] = layout.to_product(item, others)
            if shards > 1:
                self.hot[pid] = (now, found[pid])
        return found

    def _fresh(self, product_id: str, now: float) -> Product | None:
        cached = self.hot.get(product_id)
        return cached[1] if cached is not None and now - cached[0] < HOT_SECONDS else None

    def _batch(self, keys: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
        """Items by key value, read consistently."""
        return {item[layout.KEY]["S"]: item for item in reads.batch_get(self.client, self.table, keys)}

    def page(self, limit: int, start: PageKey | None) -> Page[Product, PageKey]:
        """A page of products (scan order)."""
        args: dict[str, Any] = {"TableName": self.table, "Limit": limit, "FilterExpression": layout.NOT_A_SHARD}
        if start:
            args["ExclusiveStartKey"] = to_item(start)
        result = self.client.scan(**args)
        key = result.get("LastEvaluatedKey")
        return Page(
            items=[layout.to_product(i) for i in result.get("Items", [])], next_key=from_item(key) if key else None
        )


class DynamoStockWatch:
    """A `lowStockAlert` flag on the product: set when a dip is announced, cleared when stock is back."""

    def __init__(self, client: Any, products_table: str, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.client = client
        self.table = products_table
        self.monotonic = monotonic
        self.looked: dict[str, float] = {}

    def mark_low(self, product_id: str, threshold: int) -> int | None:
        """Set the flag if below the threshold and unset (returns available); else clear it if back above."""
        if self._looked_lately(product_id):
            return None  # a product on sale, summed within HOT_SECONDS: its one item is not read again
        key = layout.key(product_id)
        # Read first: for most orders the stock is above the threshold and unflagged, and then nothing is
        # written. The two conditional writes would both fail there, and a failed write still costs a write
        # unit (2 write units against 1 read unit). Only conditional writes set or clear the flag, so a
        # change between the read and the write cannot announce one dip twice.
        seen = self.client.get_item(
            TableName=self.table, Key=key, ConsistentRead=True, ProjectionExpression=layout.WATCHED
        ).get("Item")
        if seen is not None and layout.shards_of(seen) > 1:
            return self._mark_sharded(product_id, seen, threshold)
        move = layout.flag_move(from_item(seen), threshold) if seen else None
        if move is None:
            return None
        if move == "clear":
            self._clear(key, layout.BACK_ABOVE, {":t": threshold})
            return None
        return self._flag(key, layout.FLAG_LOW[1], {":t": threshold})

    def _mark_sharded(self, product_id: str, head: dict[str, Any], threshold: int) -> int | None:
        """A product on sale: its shards are summed at most once per HOT_SECONDS here, off the orders' items.

        The flag's writes cannot test the sum, so one dip can be announced twice only if a restock and a sale
        bring it back and down again within that window; a low-stock alert is advice, not a count.
        """
        self.looked[product_id] = self.monotonic()
        keys = [layout.shard_key(product_id, k) for k in range(1, layout.shards_of(head))]
        shards = self.client.batch_get_item(RequestItems={self.table: {"Keys": keys, "ConsistentRead": True}})
        if shards.get("UnprocessedKeys"):
            return None  # a throttled shard: no sum this time, and a partial one would announce a false dip
        items = shards.get("Responses", {}).get(self.table, [])
        available = sum(layout.counters(item)["available"] for item in [head, *items])
        watched = {**from_item(head), "available": available}
        move = layout.flag_move(watched, threshold)
        if move == "clear":
            self._clear(layout.key(product_id), layout.FLAGGED, {})
        if move != "set":
            return None
        flagged = self._flag(layout.key(product_id), f"attribute_not_exists({layout.LOW_STOCK_FLAG})", {})
        return None if flagged is None else available

    def _looked_lately(self, product_id: str) -> bool:
        """Summed within HOT_SECONDS (only sharded products are summed, and a shard count never shrinks)."""
        return self.monotonic() - self.looked.get(product_id, -HOT_SECONDS) < HOT_SECONDS

    def _flag(self, key: dict[str, Any], condition: str, values: dict[str, Any]) -> int | None:
        args = {
            "TableName": self.table,
            "Key": key,
            "UpdateExpression": layout.FLAG_LOW[0],
            "ConditionExpression": condition,
            "ExpressionAttributeValues": to_item({":yes": True, **values}),
            "ReturnValues": "ALL_NEW",
        }
        try:
            # A lost answer must not hide the dip: the retry finds the flag this call set, and announces it.
            result = writes.update(self.client, args)
            return int(from_item(result["Attributes"])["available"])
        except ClientError as exc:
            if not is_condition_failed(exc):
                raise
        return None  # flagged, or back above, since the read: nothing to announce

    def unmark(self, product_id: str) -> None:
        """Clear the flag (the announcement failed)."""
        self._clear(layout.key(product_id), layout.FLAGGED, {})

    def _clear(self, key: dict[str, Any], condition: str, values: dict[str, Any]) -> None:
        args: dict[str, Any] = {
            "TableName": self.table,
            "Key": key,
            "UpdateExpression": layout.UNFLAG,
            "ConditionExpression": condition,
        }
        if values:
            args["ExpressionAttributeValues"] = to_item(values)
        try:
            self.client.update_item(**args)
        except ClientError as exc:
            if not is_condition_failed(exc):
                raise
