"""GET /analytics/daily (admin): the daily order aggregates the OrderProcessed consumer keeps."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from app.api.deps import CurrentPrincipal, container
from app.api.problems import error_replies
from app.bootstrap import Container
from app.services.event_ports import DailyAggregate
from app.services.order_events import FIRST_DAY, LAST_DAY, MAX_RANGE_DAYS, AnalyticsQueries

router = APIRouter(prefix="/analytics", tags=["analytics"])
_DAYS = f"from {FIRST_DAY} to {LAST_DAY}"


async def analytics_queries(c: Annotated[Container, Depends(container)]) -> AnalyticsQueries:
    """The analytics reads."""
    return c.analytics


class DayOut(BaseModel):
    """One day: confirmed orders, revenue per currency (minor units) and units sold per product."""

    date: date
    orders: int
    revenue: dict[str, int] = Field(description="Minor units per currency, e.g. {'USD': 2500}")
    units: dict[str, int] = Field(description="Units sold per product id")

    @classmethod
    def of(cls, aggregate: DailyAggregate) -> DayOut:
        """From the service's aggregate."""
        return cls(
            date=aggregate.day, orders=aggregate.orders, revenue=dict(aggregate.revenue), units=dict(aggregate.units)
        )


class DailyOut(BaseModel):
    """Every day of the range, oldest first (days without orders are zeros)."""

    items: list[DayOut]


@router.get(
    "/daily",
    response_model=DailyOut,
    responses=error_replies(r422=f"`from` after `to`, a range over {MAX_RANGE_DAYS} days, or a day outside {_DAYS}"),
)
async def daily(
    queries: Annotated[AnalyticsQueries, Depends(analytics_queries)],
    caller: CurrentPrincipal,
    start: Annotated[date, Query(alias="from", description=f"First day (UTC), YYYY-MM-DD, {_DAYS}; not after `to`")],
    end: Annotated[
        date,
        Query(alias="to", description=f"Last day (UTC), {_DAYS}; `from` to `to` spans at most {MAX_RANGE_DAYS} days"),
    ],
) -> DailyOut:
    """Daily order count, revenue and units per product (admin)."""
    caller.require_admin()
    return DailyOut(items=[DayOut.of(a) for a in queries.daily(start, end)])
