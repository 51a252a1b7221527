"""Builds the downstream services (event consumers, analytics, cleanup); mixed into the containers.

Adapters are imported inside each property so that a worker loads only what it uses.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any

from app.settings import Settings

if TYPE_CHECKING:
    from app.adapters.dynamo_analytics import DynamoAnalytics
    from app.adapters.dynamo_orders import DynamoOrderRepository
    from app.adapters.payments import SimulatedPaymentGateway
    from app.services.cleanup import CleanupService
    from app.services.order_events import AnalyticsQueries, OrderEventHandlers


def _now() -> datetime:
    return datetime.now(UTC)


class EventServices:
    """Order event handlers, analytics queries and the cleanup, each built on first use."""

    # Provided by the container and OrderServices.
    settings: Settings
    dynamodb: Any
    client: Callable[[str], Any]

    if TYPE_CHECKING:

        @property
        def order_repo(self) -> DynamoOrderRepository:
            """Orders table (OrderServices)."""

        @property
        def payments(self) -> SimulatedPaymentGateway:
            """The payment gateway (OrderServices)."""

    @cached_property
    def analytics_store(self) -> DynamoAnalytics:
        """The Analytics table."""
        from app.adapters.dynamo_analytics import DynamoAnalytics

        return DynamoAnalytics(self.dynamodb, self.settings.analytics_table, _now)

    @cached_property
    def analytics(self) -> AnalyticsQueries:
        """Reads of the daily aggregates."""
        from app.services.order_events import AnalyticsQueries

        return AnalyticsQueries(self.analytics_store)

    @cached_property
    def order_events(self) -> OrderEventHandlers:
        """The OrderProcessed / OrderFailed consumers' use cases."""
        from app.adapters.dynamo_analytics import DynamoStockWatch
        from app.adapters.messaging import EventBridgePublisher
        from app.adapters.sns import SnsPublisher
        from app.services.order_events import OrderEventHandlers

        s = self.settings
        return OrderEventHandlers(
            analytics=self.analytics_store,
            stock=DynamoStockWatch(self.dynamodb, s.products_table),
            notifier=SnsPublisher(self.client("sns")),
            events=EventBridgePublisher(self.client("events"), s.event_bus_name),
            topic_arn=s.notification_topic_arn,
            low_stock_threshold=s.low_stock_threshold,
        )

    def cleanup(self, clock: Callable[[], datetime] = _now) -> CleanupService:
        """The daily cleanup (a new one per run: the clock is per run)."""
        from app.adapters.dynamo_cleanup import DynamoIdempotencyRecords, DynamoStaleOrders, StepFunctionsExecutions
        from app.adapters.dynamo_inventory import DynamoInventory
        from app.adapters.messaging import EventBridgePublisher, SqsOrderQueue
        from app.services.cleanup import CleanupPolicy, CleanupPorts, CleanupService

        s = self.settings
        ports = CleanupPorts(
            stale=DynamoStaleOrders(self.dynamodb, s.orders_table),
            orders=self.order_repo,
            queue=SqsOrderQueue(self.client("sqs"), s.order_queue_url),
            executions=StepFunctionsExecutions(self.client("stepfunctions"), s.order_workflow_arn),
            inventory=DynamoInventory(self.dynamodb, s.products_table, self.order_repo),
            payments=self.payments,
            events=EventBridgePublisher(self.client("events"), s.event_bus_name),
            idempotency=DynamoIdempotencyRecords(self.dynamodb, s.idempotency_table),
        )
        policy = CleanupPolicy(
            requeue_after=timedelta(minutes=s.cleanup_requeue_after_minutes),
            expire_after=timedelta(hours=s.cleanup_expire_after_hours),
            page_size=s.cleanup_page_size,
        )
        return CleanupService(ports, clock, policy)
