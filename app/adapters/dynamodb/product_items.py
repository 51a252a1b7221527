"""The DynamoDB item layout of a product, and every write over its stock counters, in one place.

A product's stock lives in `shards` items (docs/decisions/0012-stock-shards.md): shard 0 is the product's own
item (catalog data, its counters, `shards`, the sold-out flag); shard k > 0 is the item `<id>#shard<k>`, which
holds only counters and `shardOf`. Product ids cannot contain '#', so a shard's key never names a product.
On every shard `available + reserved + sold == added` always: counters move only by ADD or inside
transactions, and a product's counters are the sums over its shards.
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
SHARDS = "shards"
SHARD_OF = "shardOf"
SOLD_OUT = "soldOut"
COUNTERS = ("available", "reserved", "sold", "added")
EXISTS = f"attribute_exists({KEY})"
ABSENT = f"attribute_not_exists({KEY})"
# Stock moves of an order line (":q" = its quantity), each with the condition that keeps counters whole.
RESERVE = ("SET available = available - :q, reserved = reserved + :q", "available >= :q")
# The same on the product's own item while the reservation believes it unsharded: a product sharded since (or
# before the process saw it) fails it, and the failed condition's view of the item carries the count.
RESERVE_UNSHARDED = (RESERVE[0], f"{RESERVE[1]} AND attribute_not_exists({SHARDS})")
RELEASE = ("SET available = available + :q, reserved = reserved - :q", "reserved >= :q")
COMMIT = ("SET reserved = reserved - :q, sold = sold + :q", "reserved >= :q")
UPSERT = (
    "SET #n = :name, price = :price, currency = :cur, updatedAt = :now, "
    "createdAt = if_not_exists(createdAt, :now), available = if_not_exists(available, :zero), "
    "reserved = if_not_exists(reserved, :zero), sold = if_not_exists(sold, :zero), "
    "added = if_not_exists(added, :zero)"
)
# Stock added is stock that can be sold: the same update clears the sold-out flag.
RESTOCK = f"ADD available :q, added :q SET updatedAt = :now REMOVE {SOLD_OUT}"
SHARD_RESTOCK = "ADD available :q, added :q"
REPRICE_AND_RESTOCK = (
    f"SET #n = :name, price = :price, currency = :cur, updatedAt = :now ADD available :q, added :q REMOVE {SOLD_OUT}"
)
# Sold out: set on the head only while it is as a snapshot that saw every shard empty saw it (inventory.py).
MARK_SOLD_OUT = (
    f"SET {SOLD_OUT} = :yes",
    f"available = :zero AND reserved = :zero AND attribute_not_exists({SOLD_OUT})",
)
EMPTY = "available = :zero AND reserved = :zero"
# Scans of the catalog skip shard items.
NOT_A_SHARD = f"attribute_not_exists({SHARD_OF})"
NAMES = {"#n": "name"}
# The low-stock flag: set once per dip below the threshold (":t"), cleared when stock is back above it.
FLAG_LOW = (f"SET {LOW_STOCK_FLAG} = :yes", f"available < :t AND attribute_not_exists({LOW_STOCK_FLAG})")
FLAGGED = f"attribute_exists({LOW_STOCK_FLAG})"
BACK_ABOVE = f"available >= :t AND {FLAGGED}"
UNFLAG = f"REMOVE {LOW_STOCK_FLAG}"
WATCHED = f"{KEY}, available, {SHARDS}, {LOW_STOCK_FLAG}"


def flag_move(watched: dict[str, Any], threshold: int) -> Literal["set", "clear"] | None:
    """What the low-stock flag needs, from a product's WATCHED attributes: set, clear, or nothing."""
    flagged = LOW_STOCK_FLAG in watched
    if int(watched["available"]) < threshold:
        return None if flagged else "set"
    return "clear" if flagged else None


def key(product_id: str) -> dict[str, Any]:
    """The item key of a product."""
    return to_item({KEY: product_id})


def shard_id(product_id: str, shard: int) -> str:
    """The key value of a product's stock shard (0 is the product itself)."""
    return product_id if shard == 0 else f"{product_id}#shard{shard}"


def shard_key(product_id: str, shard: int) -> dict[str, Any]:
    """The item key of a product's stock shard."""
    return to_item({KEY: shard_id(product_id, shard)})


def new_shard(product_id: str, shard: int, now: datetime) -> dict[str, Any]:
    """An empty stock shard item (k > 0)."""
    values = {KEY: shard_id(product_id, shard), SHARD_OF: product_id, "createdAt": now.isoformat()}
    return to_item({**values, **dict.fromkeys(COUNTERS, 0)})


def shards_of(item: dict[str, Any]) -> int:
    """How many stock shards the product item says it has."""
    return int(from_item({SHARDS: item[SHARDS]})[SHARDS]) if SHARDS in item else 1


def counters(item: dict[str, Any]) -> dict[str, int]:
    """The four stock counters of a product or shard item."""
    v = from_item({k: item[k] for k in COUNTERS if k in item})
    return {k: int(v.get(k, 0)) for k in COUNTERS}


def split(quantity: int, shards: int) -> list[int]:
    """`quantity` spread over `shards` as evenly as whole units allow (the first shards take the remainder)."""
    base, extra = divmod(quantity, shards)
    return [base + (1 if k < extra else 0) for k in range(shards)]


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


def to_product(item: dict[str, Any], shard_items: list[dict[str, Any]] | None = None) -> Product:
    """A product from its DynamoDB item, its counters summed with those of its other shards' items."""
    v = from_item(item)
    totals = counters(item)
    for other in shard_items or ():
        for name, value in counters(other).items():
            totals[name] += value
    return Product(
        id=v[KEY],
        name=v["name"],
        price=Money(int(v["price"]), v["currency"]),
        created_at=datetime.fromisoformat(v["createdAt"]),
        updated_at=datetime.fromisoformat(v["updatedAt"]),
        **totals,
        shards=shards_of(item),
        sold_out=bool(v.get(SOLD_OUT, False)),
    )


def gather(items: list[dict[str, Any]]) -> list[Product]:
    """The products among scanned items, each with its shard items' counters summed in."""
    shards: dict[str, list[dict[str, Any]]] = {}
    for item in items:
        if SHARD_OF in item:
            shards.setdefault(str(from_item({SHARD_OF: item[SHARD_OF]})[SHARD_OF]), []).append(item)
    heads = [item for item in items if SHARD_OF not in item]
    return [to_product(head, shards.get(str(from_item({KEY: head[KEY]})[KEY]), [])) for head in heads]


def stock_move(table: str, product_id: str, quantity: int, move: tuple[str, str], shard: int = 0) -> dict[str, Any]:
    """One TransactWriteItems Update moving `quantity` units (RESERVE, RELEASE or COMMIT) on one shard."""
    update, condition = move
    return {
        "Update": {
            "TableName": table,
            "Key": shard_key(product_id, shard),
            "UpdateExpression": update,
            "ConditionExpression": condition,
            "ExpressionAttributeValues": to_item({":q": quantity}),
        }
    }
