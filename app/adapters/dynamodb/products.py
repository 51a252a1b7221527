"""DynamoDB implementation of ProductRepository.

The item layout and every stock expression live in product_items; counters change only by atomic ADD or
in transactions (see inventory), never by read-modify-write.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from app.adapters.aws_errors import CONDITION_FAILED, cancellation_codes, is_condition_failed
from app.adapters.dynamodb import product_items as layout
from app.adapters.dynamodb import writes
from app.adapters.dynamodb.items import from_item, to_item
from app.domain.errors import NotFound
from app.domain.money import Money
from app.domain.products import Product
from app.services.ports.common import Page, PageKey

_BATCH = 100


class DynamoProductRepository:
    """Products keyed by productId."""

    def __init__(self, client: Any, table: str) -> None:
        self.client = client
        self.table = table

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
        return layout.to_product(result["Attributes"])

    def restock(self, product_id: str, quantity: int, now: datetime) -> Product:
        """ADD to available and added in one atomic update, then read the product as it stands.

        A one-item transaction rather than an UpdateItem: an ADD whose answer is lost is applied again by
        the SDK's retry, and only a transaction's ClientRequestToken makes that retry write nothing (a
        restock is an admin's or an import's, rare enough for the second write unit and the read).
        """
        update = {
            "TableName": self.table,
            "Key": layout.key(product_id),
            "UpdateExpression": layout.RESTOCK,
            "ConditionExpression": layout.EXISTS,
            "ExpressionAttributeValues": to_item({":q": quantity, ":now": now.isoformat()}),
        }
        try:
            writes.transact(self.client, [{"Update": update}])
        except ClientError as exc:
            if cancellation_codes(exc)[:1] == [CONDITION_FAILED]:
                raise NotFound(f"product {product_id} not found") from exc
            raise
        product = self.get(product_id)
        if product is None:  # deleted since: products are never deleted, but say so rather than guess
            raise NotFound(f"product {product_id} not found")
        return product

    def get(self, product_id: str) -> Product | None:
        """The product, read consistently."""
        item = self.client.get_item(TableName=self.table, Key=layout.key(product_id), ConsistentRead=True).get("Item")
        return layout.to_product(item) if item else None

    def get_many(self, product_ids: Collection[str]) -> dict[str, Product]:
        """BatchGetItem in chunks of 100, retrying unprocessed keys."""
        found: dict[str, Product] = {}
        ids = list(dict.fromkeys(product_ids))
        for start in range(0, len(ids), _BATCH):
            keys = [layout.key(i) for i in ids[start : start + _BATCH]]
            request: dict[str, Any] = {self.table: {"Keys": keys, "ConsistentRead": True}}
            while request:
                result = self.client.batch_get_item(RequestItems=request)
                for item in result.get("Responses", {}).get(self.table, []):
                    product = layout.to_product(item)
                    found[product.id] = product
                request = result.get("UnprocessedKeys") or {}
        return found

    def page(self, limit: int, start: PageKey | None) -> Page[Product, PageKey]:
        """A page of products (scan order)."""
        args: dict[str, Any] = {"TableName": self.table, "Limit": limit}
        if start:
            args["ExclusiveStartKey"] = to_item(start)
        result = self.client.scan(**args)
        key = result.get("LastEvaluatedKey")
        return Page(
            items=[layout.to_product(i) for i in result.get("Items", [])], next_key=from_item(key) if key else None
        )


class DynamoStockWatch:
    """A `lowStockAlert` flag on the product: set when a dip is announced, cleared when stock is back."""

    def __init__(self, client: Any, products_table: str) -> None:
        self.client = client
        self.table = products_table

    def mark_low(self, product_id: str, threshold: int) -> int | None:
        """Set the flag if below the threshold and unset (returns available); else clear it if back above."""
        key = layout.key(product_id)
        # Read first: for most orders the stock is above the threshold and unflagged, and then nothing is
        # written. The two conditional writes would both fail there, and a failed write still costs a write
        # unit (2 write units against 1 read unit). Only conditional writes set or clear the flag, so a
        # change between the read and the write cannot announce one dip twice.
        seen = self.client.get_item(
            TableName=self.table, Key=key, ConsistentRead=True, ProjectionExpression=layout.WATCHED
        ).get("Item")
        move = layout.flag_move(from_item(seen), threshold) if seen else None
        if move is None:
            return None
        if move == "clear":
            self._clear(key, layout.BACK_ABOVE, {":t": threshold})
            return None
        args = {
            "TableName": self.table,
            "Key": key,
            "UpdateExpression": layout.FLAG_LOW[0],
            "ConditionExpression": layout.FLAG_LOW[1],
            "ExpressionAttributeValues": to_item({":yes": True, ":t": threshold}),
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
