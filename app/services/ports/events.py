"""Ports of the downstream use cases: analytics, the stock watch, the cleanup's views of the stores."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Protocol

from app.domain.orders import Order
from app.services.ports.common import Page, PageKey


@dataclass(frozen=True)
class Sale:
    """What one confirmed order adds to its day's aggregate."""

    day: date
    currency: str
    revenue: int
    units: Mapping[str, int]


@dataclass(frozen=True)
class DailyAggregate:
    """One day's totals: orders, revenue per currency (minor units) and units per product."""

    day: date
    orders: int = 0
    revenue: Mapping[str, int] = field(default_factory=dict)
    units: Mapping[str, int] = field(default_factory=dict)


class AnalyticsStore(Protocol):
    """Daily aggregates, each event counted at most once."""

    def record(self, sale_id: str, sale: Sale) -> bool:
        """Add the sale atomically; False (nothing added) if this sale id (one per order) was counted before."""

    def days(self, first: date, last: date) -> list[DailyAggregate]:
        """The aggregates of the days in [first, last] that have any, oldest first."""


class StockWatch(Protocol):
    """Remembers, per product, whether the current dip below the threshold was announced."""

    def mark_low(self, product_id: str, threshold: int) -> int | None:
        """If available < threshold and not yet announced, mark it and return available; else None.

        When available is back at or above the threshold, the mark is cleared (the next dip is a new crossing).
        """

    def unmark(self, product_id: str) -> None:
        """Clear the mark (the announcement could not be published)."""


class StaleOrders(Protocol):
    """Reads the orders the cleanup looks at, page by page."""

    def page_unfinished(self, created_before: datetime, limit: int, start: PageKey | None) -> Page[Order, PageKey]:
        """PENDING or PROCESSING orders created before the cutoff, and orders whose outbox is still pending since
        before it (scan order; a page may be empty)."""


class IdempotencyRecords(Protocol):
    """Idempotency-Key claims."""

    def purge_expired(self, now: datetime, limit: int, start: PageKey | None) -> tuple[int, PageKey | None]:
        """Delete one page's expired claims; the number deleted and where to continue."""


class WorkflowExecutions(Protocol):
    """Looks up the order workflow's execution of an order."""

    def status(self, order_id: str) -> str | None:
        """RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED, or None when no execution exists."""
