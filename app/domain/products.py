"""The Product entity: catalog data and stock counters."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from app.domain.errors import ValidationError
from app.domain.money import Money
from app.domain.text import trimmed

NAME_MAX = 200
RESTOCK_MAX = 1_000_000


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


def normalise_product_name(name: str) -> str:
    """Trim a product name and check its length."""
    return trimmed(name, "name", NAME_MAX)


def check_restock(quantity: int) -> int:
    """A restock quantity: 1 to RESTOCK_MAX units."""
    if not 1 <= quantity <= RESTOCK_MAX:
        raise ValidationError("quantity is not valid", [{"field": "quantity", "message": f"must be 1-{RESTOCK_MAX}"}])
    return quantity
