"""The /products router: admins price and restock, every authenticated user reads."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from app.api.deps import Catalog, CurrentPrincipal
from app.api.schemas.common import ID_PATTERN, Cursor, Limit
from app.api.schemas.products import ProductList, ProductOut, ProductPut, Restock

router = APIRouter(prefix="/products", tags=["products"])


ProductId = Annotated[str, Path(pattern=ID_PATTERN, description="Product id")]


@router.put("/{product_id}", response_model=ProductOut, response_model_by_alias=True)
async def put_product(
    product_id: ProductId, body: ProductPut, catalog: Catalog, caller: CurrentPrincipal
) -> ProductOut:
    """Create a product or change its name and price (admin); stock is untouched."""
    caller.require_admin()
    return ProductOut.of(catalog.put(product_id, body.name, body.price, body.currency))


@router.post("/{product_id}/restock", response_model=ProductOut, response_model_by_alias=True)
async def restock(product_id: ProductId, body: Restock, catalog: Catalog, caller: CurrentPrincipal) -> ProductOut:
    """Add stock atomically (admin)."""
    caller.require_admin()
    return ProductOut.of(catalog.restock(product_id, body.quantity))


@router.get("", response_model=ProductList, response_model_by_alias=True)
async def list_products(
    catalog: Catalog,
    caller: CurrentPrincipal,
    limit: Limit = 20,
    cursor: Cursor = None,
) -> ProductList:
    """A page of products."""
    page = catalog.list(limit, cursor)
    return ProductList(items=[ProductOut.of(p) for p in page.items], next_cursor=page.next_key)


@router.get("/{product_id}", response_model=ProductOut, response_model_by_alias=True)
async def get_product(product_id: ProductId, catalog: Catalog, caller: CurrentPrincipal) -> ProductOut:
    """One product."""
    return ProductOut.of(catalog.get(product_id))
