"""The Product entity: catalog data and stock counters."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from app.domain.errors import ValidationError
from app.domain.money import Money
from app.domain.text import trimmed

NAME_MAX = 200
RESTOCK_MAX = 1_000_000
# Stock shards: one shard serves about 250 orders a second (docs/scale.md); a restock or a reshard is one
# transaction over every shard, and a transaction holds at most 100 actions.
SHARDS_MAX = 64


@dataclass(frozen=True)
class Product:
    """A product. Stock moves available -> reserved -> sold; `added` is all stock ever added."""

    id: str
    name: str
    price: Money
    created_at: datetime
    updated_at: datetime
    available: int = 0
    reserved: int = 0
    sold: int = 0
    added: int = 0
    shards: int = 1
    sold_out: bool = False  # set once nothing is available or reserved, until the next restock


def normalise_product_name(name: str) -> str:
    """Trim a product name and check its length."""
    return trimmed(name, "name", NAME_MAX)


def check_restock(quantity: int) -> int:
    """A restock quantity: 1 to RESTOCK_MAX units."""
    if not 1 <= quantity <= RESTOCK_MAX:
        raise ValidationError("quantity is not valid", [{"field": "quantity", "message": f"must be 1-{RESTOCK_MAX}"}])
    return quantity


def check_shards(product: Product, count: int) -> int:
    """A new shard count: more than the product has now (shards hold stock, so they never merge), at most SHARDS_MAX."""
    if not product.shards < count <= SHARDS_MAX:
        message = f"must be {product.shards + 1}-{SHARDS_MAX}: a product's shards only grow"
        if product.shards >= SHARDS_MAX:
            message = f"the product has the most shards there can be ({SHARDS_MAX})"
        raise ValidationError("shard count is not valid", [{"field": "shards", "message": message}])
    return count
