"""The DynamoDB item layout of a product, and every write over its stock counters, in one place.

`available + reserved + sold == added` always: counters move only by ADD or inside transactions.
The catalog repository, the inventory, the import writer, the stock watch and the tooling use these.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from app.adapters.dynamodb.items import from_item, to_item
from app.domain.money import Money
from app.domain.products import Product

KEY = "productId"
LOW_STOCK_FLAG = "lowStockAlert"
EXISTS = f"attribute_exists({KEY})"
ABSENT = f"attribute_not_exists({KEY})"
# Stock moves of an order line (":q" = its quantity), each with the condition that keeps counters whole.
RESERVE = ("SET available = available - :q, reserved = reserved + :q", "available >= :q")
RELEASE = ("SET available = available + :q, reserved = reserved - :q", "reserved >= :q")
COMMIT = ("SET reserved = reserved - :q, sold = sold + :q", "reserved >= :q")
UPSERT = (
    "SET #n = :name, price = :price, currency = :cur, updatedAt = :now, "
    "createdAt = if_not_exists(createdAt, :now), available = if_not_exists(available, :zero), "
    "reserved = if_not_exists(reserved, :zero), sold = if_not_exists(sold, :zero), "
    "added = if_not_exists(added, :zero)"
)
RESTOCK = "ADD available :q, added :q SET updatedAt = :now"
REPRICE_AND_RESTOCK = "SET #n = :name, price = :price, currency = :cur, updatedAt = :now ADD available :q, added :q"
NAMES = {"#n": "name"}
# The low-stock flag: set once per dip below the threshold (":t"), cleared when stock is back above it.
FLAG_LOW = (f"SET {LOW_STOCK_FLAG} = :yes", f"available < :t AND attribute_not_exists({LOW_STOCK_FLAG})")
FLAGGED = f"attribute_exists({LOW_STOCK_FLAG})"
BACK_ABOVE = f"available >= :t AND {FLAGGED}"
UNFLAG = f"REMOVE {LOW_STOCK_FLAG}"
WATCHED = f"available, {LOW_STOCK_FLAG}"


def flag_move(watched: dict[str, Any], threshold: int) -> Literal["set", "clear"] | None:
    """What the low-stock flag needs, from a product's WATCHED attributes: set, clear, or nothing."""
    flagged = LOW_STOCK_FLAG in watched
    if int(watched["available"]) < threshold:
        return None if flagged else "set"
    return "clear" if flagged else None


def key(product_id: str) -> dict[str, Any]:
    """The item key of a product."""
    return to_item({KEY: product_id})


def new_item(product_id: str, name: str, price: Money, stock: int, now: datetime) -> dict[str, Any]:
    """A whole new product item with `stock` available."""
    values = {
        KEY: product_id,
        "name": name,
        "price": price.amount,
        "currency": price.currency,
        "available": stock,
        "reserved": 0,
        "sold": 0,
        "added": stock,
        "createdAt": now.isoformat(),
        "updatedAt": now.isoformat(),
    }
    return to_item(values)


def details(name: str, price: Money, now: datetime, added: int | None = None) -> dict[str, Any]:
    """The values of UPSERT (no `added`) and of REPRICE_AND_RESTOCK (`added` units)."""
    values = {":name": name, ":price": price.amount, ":cur": price.currency, ":now": now.isoformat()}
    return to_item({**values, **({":zero": 0} if added is None else {":q": added})})


def to_product(item: dict[str, Any]) -> Product:
    """A product from its DynamoDB item."""
    v = from_item(item)
    return Product(
        id=v[KEY],
        name=v["name"],
        price=Money(int(v["price"]), v["currency"]),
        created_at=datetime.fromisoformat(v["createdAt"]),
        updated_at=datetime.fromisoformat(v["updatedAt"]),
        available=int(v.get("available", 0)),
        reserved=int(v.get("reserved", 0)),
        sold=int(v.get("sold", 0)),
        added=int(v.get("added", 0)),
    )


def stock_move(table: str, product_id: str, quantity: int, move: tuple[str, str]) -> dict[str, Any]:
    """One TransactWriteItems Update moving `quantity` units (RESERVE, RELEASE or COMMIT)."""
    update, condition = move
    return {
        "Update": {
            "TableName": table,
            "Key": key(product_id),
            "UpdateExpression": update,
            "ConditionExpression": condition,
            "ExpressionAttributeValues": to_item({":q": quantity}),
        }
    }
