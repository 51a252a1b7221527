"""GET /analytics/daily (admin): the daily order aggregates the OrderProcessed consumer keeps."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from app.api import deps
from app.api.openapi import error_replies
from app.api.replies import reply
from app.api.schemas.analytics import DailyOut, DayOut
from app.domain.analytics import FIRST_DAY, LAST_DAY, MAX_RANGE_DAYS

router = APIRouter(prefix="/analytics", tags=["analytics"])
_DAYS = f"from {FIRST_DAY} to {LAST_DAY}"


@router.get(
    "/daily",
    response_model=DailyOut,
    responses=error_replies(r422=f"`from` after `to`, a range over {MAX_RANGE_DAYS} days, or a day outside {_DAYS}"),
)
async def daily(
    request: Request,
    start: Annotated[date, Query(alias="from", description=f"First day (UTC), YYYY-MM-DD, {_DAYS}; not after `to`")],
    end: Annotated[
        date,
        Query(alias="to", description=f"Last day (UTC), {_DAYS}; `from` to `to` spans at most {MAX_RANGE_DAYS} days"),
    ],
) -> Response:
    """Daily order count, revenue and units per product (admin)."""
    deps.caller(request).require_admin()
    return reply(DailyOut(items=[DayOut.of(a) for a in deps.analytics(request).daily(start, end)]))
