"""HTTP bodies of the analytics API."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from pydantic import BaseModel, Field

if TYPE_CHECKING:
    from app.services.ports.events import DailyAggregate  # an annotation only: the API's cold start skips the ports


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
