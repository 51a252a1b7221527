"""The /products router: admins price and restock, every authenticated user reads."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response

from app.api import deps
from app.api.openapi import error_replies
from app.api.replies import reply
from app.api.schemas.common import ID_PATTERN, Cursor, Limit
from app.api.schemas.products import ProductList, ProductOut, ProductPut, Reshard, Restock

router = APIRouter(prefix="/products", tags=["products"])


ProductId = Annotated[str, Path(pattern=ID_PATTERN, description="Product id")]


@router.put("/{product_id}", response_model=ProductOut, response_model_by_alias=True)
async def put_product(product_id: ProductId, body: ProductPut, request: Request) -> Response:
    """Create a product or change its name and price (admin); stock is untouched."""
    deps.caller(request).require_admin()
    return reply(ProductOut.of(deps.catalog(request).put(product_id, body.name, body.price, body.currency)))


@router.post("/{product_id}/restock", response_model=ProductOut, response_model_by_alias=True)
async def restock(product_id: ProductId, body: Restock, request: Request) -> Response:
    """Add stock atomically (admin)."""
    deps.caller(request).require_admin()
    return reply(ProductOut.of(deps.catalog(request).restock(product_id, body.quantity)))


@router.put(
    "/{product_id}/shards",
    response_model=ProductOut,
    response_model_by_alias=True,
    responses=error_replies(
        r409="Another admin resharded it meanwhile: read it and try again",
        r422="Not more shards than it has, or more than the most there can be",
    ),
)
async def reshard(product_id: ProductId, body: Reshard, request: Request) -> Response:
    """Spread the product's stock over more shards (admin), for a sale; orders keep flowing meanwhile."""
    deps.caller(request).require_admin()
    return reply(ProductOut.of(deps.catalog(request).reshard(product_id, body.shards)))


@router.get("", response_model=ProductList, response_model_by_alias=True)
async def list_products(request: Request, limit: Limit = 20, cursor: Cursor = None) -> Response:
    """A page of products."""
    deps.caller(request)
    page = deps.catalog(request).list(limit, cursor)
    return reply(ProductList(items=[ProductOut.of(p) for p in page.items], next_cursor=page.next_key))


@router.get("/{product_id}", response_model=ProductOut, response_model_by_alias=True)
async def get_product(product_id: ProductId, request: Request) -> Response:
    """One product."""
    deps.caller(request)
    return reply(ProductOut.of(deps.catalog(request).get(product_id)))
