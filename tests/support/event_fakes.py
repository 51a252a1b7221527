"""In-memory fakes of the downstream ports (analytics, stock watch, cleanup views)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from app.domain.orders import Order, OrderStatus
from app.services.ports.common import Page, PageKey
from app.services.ports.events import DailyAggregate, Sale
from tests.support.fakes import InMemoryOrders, InMemoryProducts


@dataclass
class InMemoryAnalytics:
    """Aggregates per day and the event ids already counted."""

    seen: set[str] = field(default_factory=set)
    days_: dict[date, DailyAggregate] = field(default_factory=dict)

    def record(self, sale_id: str, sale: Sale) -> bool:
        if sale_id in self.seen:
            return False
        self.seen.add(sale_id)
        old = self.days_.get(sale.day, DailyAggregate(day=sale.day))
        revenue = dict(old.revenue)
        revenue[sale.currency] = revenue.get(sale.currency, 0) + sale.revenue
        units = dict(old.units)
        for product, qty in sale.units.items():
            units[product] = units.get(product, 0) + qty
        self.days_[sale.day] = DailyAggregate(sale.day, old.orders + 1, revenue, units)
        return True

    def days(self, first: date, last: date) -> list[DailyAggregate]:
        return [a for d, a in sorted(self.days_.items()) if first <= d <= last]


@dataclass
class InMemoryStockWatch:
    """The lowStockAlert flags, over the in-memory products."""

    products: InMemoryProducts
    flagged: set[str] = field(default_factory=set)

    def mark_low(self, product_id: str, threshold: int) -> int | None:
        product = self.products.get(product_id)
        if product is None:
            return None
        if product.available < threshold and product_id not in self.flagged:
            self.flagged.add(product_id)
            return product.available
        if product.available >= threshold:
            self.flagged.discard(product_id)
        return None

    def unmark(self, product_id: str) -> None:
        self.flagged.discard(product_id)


@dataclass
class PagedStaleOrders:
    """Unfinished old orders of the in-memory store, `limit` orders read per page (by id)."""

    orders: InMemoryOrders
    pages_read: int = 0

    def page_unfinished(self, created_before: datetime, limit: int, start: PageKey | None) -> Page[Order, PageKey]:
        self.pages_read += 1
        ids = sorted(self.orders.orders)
        after = start["orderId"] if start else None
        rest = [i for i in ids if after is None or i > after]
        chosen = rest[:limit]
        unfinished = (OrderStatus.PENDING, OrderStatus.PROCESSING)
        items = [
            o
            for i in chosen
            if ((o := self.orders.orders[i]).status in unfinished and o.created_at < created_before)
            or (o.outbox is not None and o.updated_at < created_before)
        ]
        return Page(items=items, next_key={"orderId": chosen[-1]} if len(rest) > limit else None)


@dataclass
class InMemoryClaims:
    """Idempotency claims: key -> expiry."""

    expiry: dict[str, datetime] = field(default_factory=dict)

    def purge_expired(self, now: datetime, limit: int, start: PageKey | None) -> tuple[int, PageKey | None]:
        keys = sorted(self.expiry)
        after = start["k"] if start else None
        rest = [k for k in keys if after is None or k > after]
        chosen = rest[:limit]
        gone = [k for k in chosen if self.expiry[k] < now]
        for k in gone:
            del self.expiry[k]
        return len(gone), ({"k": chosen[-1]} if len(rest) > limit else None)


@dataclass
class FakeExecutions:
    """Execution status per order id (absent: never started)."""

    status_of: dict[str, str] = field(default_factory=dict)

    def status(self, order_id: str) -> str | None:
        return self.status_of.get(order_id)
