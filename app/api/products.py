"""The /products router: admins price and restock, every authenticated user reads."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from app.api.deps import CurrentPrincipal, container
from app.api.order_schemas import ProductList, ProductOut, ProductPut, Restock
from app.api.schemas import ID_PATTERN
from app.bootstrap import Container
from app.services.catalog import CatalogService

router = APIRouter(prefix="/products", tags=["products"])


async def catalog_service(c: Annotated[Container, Depends(container)]) -> CatalogService:
    """The catalog use cases."""
    return c.catalog


Catalog = Annotated[CatalogService, Depends(catalog_service)]
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
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=2048)] = None,
) -> ProductList:
    """A page of products."""
    page = catalog.list(limit, cursor)
    return ProductList(items=[ProductOut.of(p) for p in page.products], next_cursor=page.cursor)


@router.get("/{product_id}", response_model=ProductOut, response_model_by_alias=True)
async def get_product(product_id: ProductId, catalog: Catalog, caller: CurrentPrincipal) -> ProductOut:
    """One product."""
    return ProductOut.of(catalog.get(product_id))
