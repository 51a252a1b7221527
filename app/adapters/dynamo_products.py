"""DynamoDB implementation of ProductRepository.

Stock counters change only by atomic ADD or in transactions (see dynamo_inventory), never by
read-modify-write. `added` counts all stock ever added, so available + reserved + sold == added.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from app.adapters.dynamo import error_code, from_item, to_item
from app.domain.errors import NotFound
from app.domain.money import Money
from app.domain.products import Product
from app.services.ports import Page, PageKey

_BATCH = 100


def to_product(item: dict[str, Any]) -> Product:
    """A product from its DynamoDB item."""
    v = from_item(item)
    return Product(
        id=v["productId"],
        name=v["name"],
        price=Money(int(v["price"]), v["currency"]),
        created_at=datetime.fromisoformat(v["createdAt"]),
        updated_at=datetime.fromisoformat(v["updatedAt"]),
        available=int(v.get("available", 0)),
        reserved=int(v.get("reserved", 0)),
        sold=int(v.get("sold", 0)),
        added=int(v.get("added", 0)),
    )


class DynamoProductRepository:
    """Products keyed by productId."""

    def __init__(self, client: Any, table: str) -> None:
        self.client = client
        self.table = table

    def upsert(self, product_id: str, name: str, price: Money, now: datetime) -> Product:
        """Create with zero stock, or change name and price; counters are kept."""
        result = self.client.update_item(
            TableName=self.table,
            Key=to_item({"productId": product_id}),
            UpdateExpression=(
                "SET #n = :name, price = :price, currency = :cur, updatedAt = :now, "
                "createdAt = if_not_exists(createdAt, :now), available = if_not_exists(available, :zero), "
                "reserved = if_not_exists(reserved, :zero), sold = if_not_exists(sold, :zero), "
                "added = if_not_exists(added, :zero)"
            ),
            ExpressionAttributeNames={"#n": "name"},
            ExpressionAttributeValues=to_item(
                {":name": name, ":price": price.amount, ":cur": price.currency, ":now": now.isoformat(), ":zero": 0}
            ),
            ReturnValues="ALL_NEW",
        )
        return to_product(result["Attributes"])

    def restock(self, product_id: str, quantity: int, now: datetime) -> Product:
        """ADD to available and added in one atomic update."""
        try:
            result = self.client.update_item(
                TableName=self.table,
                Key=to_item({"productId": product_id}),
                UpdateExpression="ADD available :q, added :q SET updatedAt = :now",
                ConditionExpression="attribute_exists(productId)",
                ExpressionAttributeValues=to_item({":q": quantity, ":now": now.isoformat()}),
                ReturnValues="ALL_NEW",
            )
        except ClientError as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                raise NotFound(f"product {product_id} not found") from exc
            raise
        return to_product(result["Attributes"])

    def get(self, product_id: str) -> Product | None:
        """The product, read consistently."""
        item = self.client.get_item(
            TableName=self.table, Key=to_item({"productId": product_id}), ConsistentRead=True
        ).get("Item")
        return to_product(item) if item else None

    def get_many(self, product_ids: Collection[str]) -> dict[str, Product]:
        """BatchGetItem in chunks of 100, retrying unprocessed keys."""
        found: dict[str, Product] = {}
        ids = list(dict.fromkeys(product_ids))
        for start in range(0, len(ids), _BATCH):
            keys = [to_item({"productId": i}) for i in ids[start : start + _BATCH]]
            request: dict[str, Any] = {self.table: {"Keys": keys, "ConsistentRead": True}}
            while request:
                result = self.client.batch_get_item(RequestItems=request)
                for item in result.get("Responses", {}).get(self.table, []):
                    product = to_product(item)
                    found[product.id] = product
                request = result.get("UnprocessedKeys") or {}
        return found

    def page(self, limit: int, start: PageKey | None) -> Page:
        """A page of products (scan order)."""
        args: dict[str, Any] = {"TableName": self.table, "Limit": limit}
        if start:
            args["ExclusiveStartKey"] = to_item(start)
        result = self.client.scan(**args)
        key = result.get("LastEvaluatedKey")
        return Page(items=[to_product(i) for i in result.get("Items", [])], next_key=from_item(key) if key else None)
