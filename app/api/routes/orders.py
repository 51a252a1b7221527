"""The /orders router and GET /users/{id}/orders: thin handlers over OrderService."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.metrics import MetricUnit
from fastapi import APIRouter, Path, Request, Response

from app.api import deps
from app.api.deps import IdempotencyKey
from app.api.openapi import error_replies, replies_with
from app.api.replies import reply
from app.api.schemas.common import ID_PATTERN, Cursor, Limit
from app.api.schemas.orders import OrderCreate, OrderList, OrderOut
from app.domain.orders import OrderStatus
from app.observability import REQUEST_METRICS, logger

router = APIRouter(tags=["orders"])


OrderId = Annotated[str, Path(pattern=r"^[A-Za-z0-9-]{1,80}$", description="Order id")]


@router.post(
    "/orders",
    status_code=202,
    response_model=OrderOut,
    response_model_by_alias=True,
    responses={
        **replies_with(202, "Location", "Idempotent-Replayed"),
        **error_replies(
            r403="The token's user has no profile (deleted, or never created with POST /users)",
            r409="SoldOut: a product has nothing available and nothing reserved (a restock ends it)",
            r422="Unknown products, products of more than one currency, or a reused Idempotency-Key",
        ),
    },
)
async def place_order(body: OrderCreate, request: Request, key: IdempotencyKey = None) -> Response:
    """Accept an order (PENDING) for asynchronous processing; the same Idempotency-Key replays the original."""
    caller = deps.caller(request)
    items = [(i.product_id, i.quantity) for i in body.items]
    placed = deps.orders(request).place(caller.sub, items, idempotency_key=key, payment_token=body.payment_token)
    if placed.created:
        # In the request's own EMF record, not one of its own: a log line fewer an order (docs/performance.md).
        request.scope.setdefault(REQUEST_METRICS, {})["OrdersPlaced"] = (1, MetricUnit.Count)
    if not placed.enqueued and placed.order.status is OrderStatus.PENDING:
        logger.warning("order stored but not enqueued; the cleanup re-enqueues it", extra={"orderId": placed.order.id})
    headers = {"Location": f"/orders/{placed.order.id}"}
    if not placed.created:
        headers["Idempotent-Replayed"] = "true"
    return reply(OrderOut.of(placed.order), 202, headers)


@router.get("/orders/{order_id}", response_model=OrderOut, response_model_by_alias=True)
async def get_order(order_id: OrderId, request: Request) -> Response:
    """One order (owner or admin)."""
    caller = deps.caller(request)
    return reply(OrderOut.of(deps.orders(request).get(order_id, caller)))


@router.post(
    "/orders/{order_id}/cancel",
    response_model=OrderOut,
    response_model_by_alias=True,
    responses=error_replies(r404="No such order", r409="The order is paid or already final: it cannot be cancelled"),
)
async def cancel_order(order_id: OrderId, request: Request) -> Response:
    """Cancel an order that has not been paid; 409 otherwise."""
    caller = deps.caller(request)
    return reply(OrderOut.of(deps.orders(request).cancel(order_id, caller)))


@router.get("/users/{user_id}/orders", response_model=OrderList, response_model_by_alias=True)
async def list_user_orders(
    user_id: Annotated[str, Path(pattern=ID_PATTERN)],
    request: Request,
    limit: Limit = 20,
    cursor: Cursor = None,
) -> Response:
    """A user's orders, newest first (owner or admin)."""
    caller = deps.caller(request)
    page = deps.orders(request).list_for_user(user_id, caller, limit, cursor)
    return reply(OrderList(items=[OrderOut.of(o) for o in page.items], next_cursor=page.next_key))
