"""The /orders router and GET /users/{id}/orders: thin handlers over OrderService."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.metrics import MetricUnit
from fastapi import APIRouter, Path, Response

from app.api.deps import CurrentPrincipal, IdempotencyKey, Orders
from app.api.problems import error_replies
from app.api.schemas.common import ID_PATTERN, Cursor, Limit
from app.api.schemas.orders import OrderCreate, OrderList, OrderOut
from app.domain.orders import OrderStatus
from app.observability import emit_metrics, logger

router = APIRouter(tags=["orders"])


OrderId = Annotated[str, Path(pattern=r"^[A-Za-z0-9-]{1,80}$", description="Order id")]


@router.post(
    "/orders",
    status_code=202,
    response_model=OrderOut,
    response_model_by_alias=True,
    responses=error_replies(
        r403="The token's user has no profile (deleted, or never created with POST /users)",
        r422="Unknown products, products of more than one currency, or a reused Idempotency-Key",
    ),
)
async def place_order(
    body: OrderCreate, orders: Orders, caller: CurrentPrincipal, response: Response, key: IdempotencyKey = None
) -> OrderOut:
    """Accept an order (PENDING) for asynchronous processing; the same Idempotency-Key replays the original."""
    items = [(i.product_id, i.quantity) for i in body.items]
    placed = orders.place(caller.sub, items, idempotency_key=key, payment_token=body.payment_token)
    if placed.created:
        emit_metrics({"OrdersPlaced": (1, MetricUnit.Count)})
    if not placed.enqueued and placed.order.status is OrderStatus.PENDING:
        logger.warning("order stored but not enqueued; the cleanup re-enqueues it", extra={"orderId": placed.order.id})
    response.headers["Location"] = f"/orders/{placed.order.id}"
    if not placed.created:
        response.headers["Idempotent-Replayed"] = "true"
    return OrderOut.of(placed.order)


@router.get("/orders/{order_id}", response_model=OrderOut, response_model_by_alias=True)
async def get_order(order_id: OrderId, orders: Orders, caller: CurrentPrincipal) -> OrderOut:
    """One order (owner or admin)."""
    return OrderOut.of(orders.get(order_id, caller))


@router.post("/orders/{order_id}/cancel", response_model=OrderOut, response_model_by_alias=True)
async def cancel_order(order_id: OrderId, orders: Orders, caller: CurrentPrincipal) -> OrderOut:
    """Cancel an order that has not been paid; 409 otherwise."""
    return OrderOut.of(orders.cancel(order_id, caller))


@router.get("/users/{user_id}/orders", response_model=OrderList, response_model_by_alias=True)
async def list_user_orders(
    user_id: Annotated[str, Path(pattern=ID_PATTERN)],
    orders: Orders,
    caller: CurrentPrincipal,
    limit: Limit = 20,
    cursor: Cursor = None,
) -> OrderList:
    """A user's orders, newest first (owner or admin)."""
    page = orders.list_for_user(user_id, caller, limit, cursor)
    return OrderList(items=[OrderOut.of(o) for o in page.items], next_cursor=page.next_key)
