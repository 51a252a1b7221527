"""What happens downstream of an order: the user's notification, daily analytics, the stock watch.

Events arrive at least once. Analytics are counted once per EventBridge event id; LowStock is
published once per crossing; a notification may, rarely, be sent twice (a redelivery after it went out).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from app.domain.analytics import FIRST_DAY, LAST_DAY, MAX_RANGE_DAYS
from app.domain.errors import ValidationError
from app.domain.events import LowStock, OrderFailed, OrderProcessed
from app.domain.notifications import CONFIRMATION_SUBJECT, FAILURE_SUBJECT, confirmation_text, failure_text
from app.services.ports.common import Message, Publisher
from app.services.ports.events import AnalyticsStore, DailyAggregate, Sale, StockWatch
from app.services.ports.orders import EventPublisher


@dataclass(frozen=True)
class ProcessedOutcome:
    """What handling one OrderProcessed event did."""

    counted: bool
    low_stock: tuple[str, ...]


def sale_of(event: OrderProcessed, day: date) -> Sale:
    """The analytics contribution of a confirmed order."""
    units: dict[str, int] = {}
    for line in event.items:
        units[line.productId] = units.get(line.productId, 0) + line.quantity
    return Sale(day=day, currency=event.currency, revenue=event.total, units=units)


class OrderEventHandlers:
    """The OrderProcessed and OrderFailed consumers' use cases."""

    def __init__(
        self,
        analytics: AnalyticsStore,
        stock: StockWatch,
        notifier: Publisher,
        events: EventPublisher,
        topic_arn: str,
        low_stock_threshold: int,
    ) -> None:
        self.analytics = analytics
        self.stock = stock
        self.notifier = notifier
        self.events = events
        self.topic_arn = topic_arn
        self.threshold = low_stock_threshold

    def on_processed(self, at: datetime, event: OrderProcessed) -> ProcessedOutcome:
        """Count the sale on the event's day, once per order, watch the stock, then confirm to the user.

        The sale is keyed by the order, not the EventBridge event id: the outbox may publish an order's event
        twice (a crash between publishing and clearing it), and each publication has its own id.
        The notification goes last: if anything before it fails, the redelivered event finds the sale
        counted (no double count) and the user still gets exactly one confirmation in the common case.
        """
        counted = self.analytics.record(f"{OrderProcessed.DETAIL_TYPE}#{event.orderId}", sale_of(event, at.date()))
        low = tuple(p for p in dict.fromkeys(x.productId for x in event.items) if self._watch(p, event.orderId))
        self.notifier.publish(
            Message(
                topic_arn=self.topic_arn,
                subject=CONFIRMATION_SUBJECT,
                body=confirmation_text(event),
                attributes={"userId": event.userId, "eventType": OrderProcessed.DETAIL_TYPE},
            )
        )
        return ProcessedOutcome(counted=counted, low_stock=low)

    def on_failed(self, event: OrderFailed) -> None:
        """Tell the user the order failed, and why."""
        self.notifier.publish(
            Message(
                topic_arn=self.topic_arn,
                subject=FAILURE_SUBJECT,
                body=failure_text(event),
                attributes={"userId": event.userId, "eventType": OrderFailed.DETAIL_TYPE},
            )
        )

    def _watch(self, product_id: str, order_id: str) -> bool:
        available = self.stock.mark_low(product_id, self.threshold)
        if available is None:
            return False
        alert = LowStock(productId=product_id, available=available, threshold=self.threshold, orderId=order_id)
        try:
            self.events.publish(LowStock.DETAIL_TYPE, alert.model_dump(mode="json"))
        except Exception:
            self.stock.unmark(product_id)  # not announced: the redelivery announces it
            raise
        return True


class AnalyticsQueries:
    """Reads of the daily aggregates."""

    def __init__(self, analytics: AnalyticsStore) -> None:
        self.analytics = analytics

    def daily(self, first: date, last: date) -> list[DailyAggregate]:
        """Every day of [first, last], zeros included; at most MAX_RANGE_DAYS days."""
        if not FIRST_DAY <= first <= LAST_DAY or not FIRST_DAY <= last <= LAST_DAY:
            message = f"must be a day from {FIRST_DAY} to {LAST_DAY}"
            raise ValidationError(f"days {message}", [{"field": "from/to", "message": message}])
        if last < first:
            raise ValidationError("`from` must not be after `to`", [{"field": "from", "message": "after `to`"}])
        span = (last - first).days + 1
        if span > MAX_RANGE_DAYS:
            raise ValidationError(
                f"at most {MAX_RANGE_DAYS} days at a time", [{"field": "to", "message": f"range over {MAX_RANGE_DAYS}"}]
            )
        found = {a.day: a for a in self.analytics.days(first, last)}
        return [found.get(d, DailyAggregate(day=d)) for d in (first + timedelta(days=i) for i in range(span))]
