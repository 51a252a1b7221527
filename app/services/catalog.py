"""Catalog use cases: products, prices and stock."""

from __future__ import annotations

from app.domain.errors import NotFound, ValidationError
from app.domain.money import Money, check_currency, check_price
from app.domain.products import Product, check_restock, check_shards, normalise_product_name
from app.services.cursor import CursorCodec
from app.services.ports.common import Clock, Page
from app.services.ports.orders import ProductRepository


class CatalogService:
    """Create, price, restock and read products."""

    def __init__(self, products: ProductRepository, clock: Clock, cursors: CursorCodec) -> None:
        self.products = products
        self.clock = clock
        self.cursors = cursors

    def put(self, product_id: str, name: str, price: int, currency: str) -> Product:
        """Create a product or change its name and price; its stock is untouched."""
        money = Money(check_price(price), check_currency(currency))
        return self.products.upsert(product_id, normalise_product_name(name), money, self.clock())

    def restock(self, product_id: str, quantity: int) -> Product:
        """Add stock atomically."""
        return self.products.restock(product_id, check_restock(quantity), self.clock())

    def reshard(self, product_id: str, shards: int) -> Product:
        """Give the product more stock shards, so that a sale's orders spread over more items."""
        return self.products.add_shards(product_id, check_shards(self.get(product_id), shards), self.clock())

    def get(self, product_id: str) -> Product:
        """The product, or NotFound."""
        product = self.products.get(product_id)
        if product is None:
            raise NotFound(f"product {product_id} not found")
        return product

    def list(self, limit: int, cursor: str | None) -> Page[Product, str]:
        """A page of products."""
        if limit < 1:
            raise ValidationError("limit must be positive", [{"field": "limit", "message": "must be >= 1"}])
        page = self.products.page(limit, self.cursors.decode(cursor))
        return Page(page.items, self.cursors.encode(page.next_key))
