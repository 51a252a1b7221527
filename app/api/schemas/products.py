"""HTTP bodies of the catalog (products) API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from app.api.schemas.common import NAME_SCHEMA, name_rule
from app.domain.money import MAX_AMOUNT
from app.domain.products import NAME_MAX, RESTOCK_MAX, SHARDS_MAX, Product

ProductName = Annotated[str, StringConstraints(min_length=1, max_length=NAME_MAX), name_rule(NAME_MAX), NAME_SCHEMA]
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Za-z]{3}$")]


class ProductPut(BaseModel):
    """Body of PUT /products/{id}: the price is in minor units (cents) of the currency."""

    model_config = ConfigDict(extra="forbid")
    name: ProductName
    price: int = Field(gt=0, le=MAX_AMOUNT, description="Minor units, e.g. 1299 for 12.99")
    currency: Currency = "USD"


class Restock(BaseModel):
    """Body of POST /products/{id}/restock."""

    model_config = ConfigDict(extra="forbid")
    quantity: int = Field(ge=1, le=RESTOCK_MAX)


class Reshard(BaseModel):
    """Body of PUT /products/{id}/shards: the product's new stock shard count, more than it has."""

    model_config = ConfigDict(extra="forbid")
    shards: int = Field(ge=2, le=SHARDS_MAX, description="Each shard takes about 250 orders a second (docs/scale.md)")


class ProductOut(BaseModel):
    """A product and its stock counters."""

    id: str
    name: str
    price: int
    currency: str
    available: int
    reserved: int
    sold: int
    shards: int = Field(description="Stock shards: the items that hold its stock")
    sold_out: bool = Field(serialization_alias="soldOut", description="Nothing available or reserved: orders get 409")
    created_at: datetime = Field(serialization_alias="createdAt")
    updated_at: datetime = Field(serialization_alias="updatedAt")

    @classmethod
    def of(cls, p: Product) -> ProductOut:
        """From the domain entity."""
        return cls(
            id=p.id,
            name=p.name,
            price=p.price.amount,
            currency=p.price.currency,
            available=p.available,
            reserved=p.reserved,
            sold=p.sold,
            shards=p.shards,
            sold_out=p.sold_out,
            created_at=p.created_at,
            updated_at=p.updated_at,
        )


class ProductList(BaseModel):
    """A page of products."""

    items: list[ProductOut]
    next_cursor: str | None = Field(serialization_alias="nextCursor")
