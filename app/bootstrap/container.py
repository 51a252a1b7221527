"""The composition root: one Container built from Settings, with a seam (Ports) for fakes.

Every adapter and service is a cached property, built on first use, so a function builds only what its
handler touches (a ValidateOrder task never constructs the import or analytics adapters). An adapter named
in `Ports` is used instead of the AWS one: that is how unit and API tests run the same wiring on fakes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cached_property, lru_cache
from typing import TYPE_CHECKING, Any

from app.bootstrap.aws import AwsClients, LazyClient
from app.settings import Settings, get_settings

if TYPE_CHECKING:
    from app.services.catalog import CatalogService
    from app.services.catalog_import import CatalogImportService, ImportLimits, ImportSweeper
    from app.services.cleanup import CleanupService
    from app.services.health import HealthReport
    from app.services.order_events import AnalyticsQueries, OrderEventHandlers
    from app.services.order_workflow import OrderDispatcher, OrderWorkflow
    from app.services.orders import OrderService
    from app.services.ports.auth import KeySource
    from app.services.ports.common import Clock, HealthProbe, Publisher
    from app.services.ports.events import (
        AnalyticsStore,
        IdempotencyRecords,
        StaleOrders,
        StockWatch,
        WorkflowExecutions,
    )
    from app.services.ports.imports import ContinuationQueue, ImportRepository, ImportStore
    from app.services.ports.orders import (
        EventPublisher,
        Inventory,
        OrderQueue,
        OrderRepository,
        PaymentGateway,
        ProductRepository,
        WorkflowStarter,
    )
    from app.services.ports.users import UserRepository
    from app.services.reconcile import OrderReconciler
    from app.services.tokens import TokenVerifier
    from app.services.users import UserService


def utc_now() -> datetime:
    """The current time in UTC."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class Ports:
    """Adapters to use instead of the AWS ones; None keeps the AWS adapter. mypy checks each against its port."""

    users: UserRepository | None = None
    user_events: Publisher | None = None
    products: ProductRepository | None = None
    orders: OrderRepository | None = None
    inventory: Inventory | None = None
    payments: PaymentGateway | None = None
    order_queue: OrderQueue | None = None
    order_watch: OrderQueue | None = None
    workflow: WorkflowStarter | None = None
    order_events: EventPublisher | None = None
    notifications: Publisher | None = None
    analytics: AnalyticsStore | None = None
    stock: StockWatch | None = None
    stale_orders: StaleOrders | None = None
    executions: WorkflowExecutions | None = None
    idempotency: IdempotencyRecords | None = None
    imports: ImportRepository | None = None
    import_store: ImportStore | None = None
    continuations: ContinuationQueue | None = None
    token_keys: KeySource | None = None
    health_probes: tuple[list[HealthProbe], list[HealthProbe]] | None = None
    clock: Clock | None = None


class Container:
    """Every adapter and use case of the service, each built once, on first use."""

    def __init__(self, settings: Settings, ports: Ports | None = None) -> None:
        self.settings = settings
        self.ports = ports or Ports()
        self.clients = AwsClients(settings)
        self.clock: Clock = self.ports.clock or utc_now

    def client(self, service: str, signature_version: str | None = None) -> Any:
        """The boto3 client of a service, created once per container."""
        return self.clients(service, signature_version)

    @cached_property
    def dynamodb(self) -> Any:
        """The DynamoDB client."""
        return self.client("dynamodb")

    # ------------------------------------------------------------------ adapters (ports)

    @cached_property
    def user_repo(self) -> UserRepository:
        """Users table."""
        from app.adapters.dynamodb.users import DynamoUserRepository

        return self.ports.users or DynamoUserRepository(self.dynamodb, self.settings.users_table)

    @cached_property
    def user_events(self) -> Publisher:
        """UserCreated on SNS; the client is made on the first publish (reads should not pay for it)."""
        from app.adapters.sns import SnsPublisher

        return self.ports.user_events or SnsPublisher(LazyClient(lambda: self.client("sns")))

    @cached_property
    def product_repo(self) -> ProductRepository:
        """Products table."""
        from app.adapters.dynamodb.products import DynamoProductRepository

        return self.ports.products or DynamoProductRepository(self.dynamodb, self.settings.products_table)

    @cached_property
    def order_repo(self) -> OrderRepository:
        """Orders table with its Idempotency-Key claims."""
        from app.adapters.dynamodb.orders import DynamoOrderRepository

        s = self.settings
        return self.ports.orders or DynamoOrderRepository(self.dynamodb, s.orders_table, s.idempotency_table)

    @cached_property
    def inventory(self) -> Inventory:
        """Stock moves, each in one transaction with the order's own record."""
        from app.adapters.dynamodb.inventory import DynamoInventory
        from app.adapters.dynamodb.orders import DynamoOrderRepository

        if self.ports.inventory is not None:
            return self.ports.inventory
        s = self.settings
        orders = DynamoOrderRepository(self.dynamodb, s.orders_table, s.idempotency_table)
        return DynamoInventory(self.dynamodb, s.products_table, orders)

    @cached_property
    def payments(self) -> PaymentGateway:
        """The simulated payment gateway and its ledger."""
        from app.adapters.dynamodb.payments import SimulatedPaymentGateway

        s = self.settings
        return self.ports.payments or SimulatedPaymentGateway(
            self.dynamodb, s.payments_table, s.payment_limit_minor, self.clock
        )

    @cached_property
    def order_queue(self) -> OrderQueue:
        """The order queue."""
        from app.adapters.sqs import SqsOrderQueue

        return self.ports.order_queue or SqsOrderQueue(self.client("sqs"), self.settings.order_queue_url)

    @cached_property
    def order_watch(self) -> OrderQueue | None:
        """The delayed look at each started order (EXPRESS workflows only; None otherwise)."""
        from app.adapters.sqs import SqsOrderQueue

        url = self.settings.order_watch_queue_url
        return self.ports.order_watch or (SqsOrderQueue(self.client("sqs"), url) if url else None)

    @cached_property
    def workflow(self) -> WorkflowStarter:
        """Starts the order workflow."""
        from app.adapters.stepfunctions import StepFunctionsStarter

        return self.ports.workflow or StepFunctionsStarter(
            self.client("stepfunctions"), self.settings.order_workflow_arn
        )

    @cached_property
    def order_bus(self) -> EventPublisher:
        """The order events bus."""
        from app.adapters.eventbridge import EventBridgePublisher

        # Lazy: of the workflow's tasks only SendNotification publishes; the others never load the events model.
        events = LazyClient(lambda: self.client("events"))
        return self.ports.order_events or EventBridgePublisher(events, self.settings.event_bus_name)

    @cached_property
    def notifications(self) -> Publisher:
        """The users' notification topic."""
        from app.adapters.sns import SnsPublisher

        return self.ports.notifications or SnsPublisher(self.client("sns"))

    @cached_property
    def analytics_store(self) -> AnalyticsStore:
        """The Analytics table."""
        from app.adapters.dynamodb.analytics import DynamoAnalytics

        return self.ports.analytics or DynamoAnalytics(self.dynamodb, self.settings.analytics_table, self.clock)

    @cached_property
    def stock_watch(self) -> StockWatch:
        """The products' low-stock flags."""
        from app.adapters.dynamodb.products import DynamoStockWatch

        return self.ports.stock or DynamoStockWatch(self.dynamodb, self.settings.products_table)

    @cached_property
    def import_repo(self) -> ImportRepository:
        """Imports table (its chunk transactions also write products)."""
        from app.adapters.dynamodb.imports import DynamoImportRepository

        s = self.settings
        return self.ports.imports or DynamoImportRepository(self.dynamodb, s.imports_table, s.products_table)

    @cached_property
    def import_store(self) -> ImportStore:
        """The imports bucket; SigV4, so that Content-Type and Content-Length are part of the presigned PUT."""
        from app.adapters.s3 import S3ImportStore

        return self.ports.import_store or S3ImportStore(
            self.client("s3", "s3v4"), self.settings.imports_bucket, self.clock
        )

    @cached_property
    def continuations(self) -> ContinuationQueue:
        """The catalog import's continuation queue."""
        from app.adapters.sqs import SqsContinuationQueue

        return self.ports.continuations or SqsContinuationQueue(
            self.client("sqs"), self.settings.import_continue_queue_url
        )

    # ------------------------------------------------------------------ use cases

    @cached_property
    def cursor_key(self) -> Callable[[], str]:
        """The pagination cursors' key (read from Secrets Manager on first use in AWS)."""
        from app.bootstrap.cursors import cursor_key

        return cursor_key(self.settings, self.client)

    @cached_property
    def tokens(self) -> TokenVerifier:
        """The bearer token verifier (its secret and JWKS caches live as long as the container)."""
        from app.bootstrap.auth import token_verifier

        return token_verifier(self.settings, self.clients, self.ports.token_keys)

    @cached_property
    def users(self) -> UserService:
        """The user use cases."""
        from app.services.cursor import CursorCodec
        from app.services.users import UserService

        cursors = CursorCodec(self.cursor_key, "users")
        topic = self.settings.user_created_topic_arn
        return UserService(self.user_repo, self.user_events, self.clock, cursors, topic)

    @cached_property
    def catalog(self) -> CatalogService:
        """Catalog use cases."""
        from app.services.catalog import CatalogService
        from app.services.cursor import CursorCodec

        return CatalogService(self.product_repo, self.clock, CursorCodec(self.cursor_key, "products"))

    @cached_property
    def orders(self) -> OrderService:
        """Order use cases of the API."""
        from app.services.orders import OrderService

        return OrderService(
            self.order_repo, self.product_repo, self.order_queue, self.clock, self.cursor_key, self.user_repo
        )

    @cached_property
    def order_dispatcher(self) -> OrderDispatcher:
        """The order queue worker's use case."""
        from app.services.order_workflow import OrderDispatcher

        return OrderDispatcher(self.order_repo, self.workflow, self.order_watch)

    @cached_property
    def order_workflow(self) -> OrderWorkflow:
        """The workflow's task use cases."""
        from app.services.order_workflow import OrderWorkflow

        return OrderWorkflow(
            orders=self.order_repo,
            products=self.product_repo,
            users=self.user_repo,
            inventory=self.inventory,
            payments=self.payments,
            events=self.order_bus,
            clock=self.clock,
        )

    @cached_property
    def order_reconciler(self) -> OrderReconciler:
        """Settles orders whose workflow execution ended abnormally."""
        from app.services.reconcile import OrderReconciler

        return OrderReconciler(self.order_repo, self.inventory, self.payments, self.order_bus, self.clock)

    @cached_property
    def analytics(self) -> AnalyticsQueries:
        """Reads of the daily aggregates."""
        from app.services.order_events import AnalyticsQueries

        return AnalyticsQueries(self.analytics_store)

    @cached_property
    def order_events(self) -> OrderEventHandlers:
        """The OrderProcessed / OrderFailed consumers' use cases."""
        from app.services.order_events import OrderEventHandlers

        s = self.settings
        return OrderEventHandlers(
            analytics=self.analytics_store,
            stock=self.stock_watch,
            notifier=self.notifications,
            events=self.order_bus,
            topic_arn=s.notification_topic_arn,
            low_stock_threshold=s.low_stock_threshold,
        )

    def cleanup(self, clock: Clock | None = None) -> CleanupService:
        """The daily cleanup (a new one per run: the clock is per run)."""
        from app.services.cleanup import CleanupPolicy, CleanupPorts, CleanupService

        s = self.settings
        ports = CleanupPorts(
            stale=self._stale_orders,
            orders=self.order_repo,
            queue=self.order_queue,
            executions=self._executions,
            inventory=self.inventory,
            payments=self.payments,
            events=self.order_bus,
            idempotency=self._idempotency,
        )
        policy = CleanupPolicy(
            requeue_after=timedelta(minutes=s.cleanup_requeue_after_minutes),
            expire_after=timedelta(hours=s.cleanup_expire_after_hours),
            page_size=s.cleanup_page_size,
        )
        return CleanupService(ports, clock or self.clock, policy)

    @cached_property
    def _stale_orders(self) -> StaleOrders:
        from app.adapters.dynamodb.orders import DynamoStaleOrders

        return self.ports.stale_orders or DynamoStaleOrders(self.dynamodb, self.settings.orders_table)

    @cached_property
    def _executions(self) -> WorkflowExecutions:
        from app.adapters.stepfunctions import StepFunctionsExecutions

        s = self.settings
        return self.ports.executions or StepFunctionsExecutions(self.client("stepfunctions"), s.order_workflow_arn)

    @cached_property
    def _idempotency(self) -> IdempotencyRecords:
        from app.adapters.dynamodb.idempotency import DynamoIdempotencyRecords

        return self.ports.idempotency or DynamoIdempotencyRecords(self.dynamodb, self.settings.idempotency_table)

    @cached_property
    def import_limits(self) -> ImportLimits:
        """Sizes, deadlines and chunking of imports."""
        from app.services.catalog_import import ImportLimits

        s = self.settings
        return ImportLimits(
            max_bytes=s.import_max_bytes,
            url_ttl_seconds=s.import_url_ttl_seconds,
            reserve_ms=s.import_reserve_ms,
            chunk_rows=s.import_chunk_rows,
            stall_minutes=s.import_stall_minutes,
        )

    @cached_property
    def catalog_imports(self) -> CatalogImportService:
        """Create, read and run catalog imports."""
        from app.services.catalog_import import CatalogImportService

        return CatalogImportService(
            self.import_repo, self.import_store, self.continuations, self.clock, self.import_limits
        )

    @cached_property
    def import_sweeper(self) -> ImportSweeper:
        """Fails imports stuck past their deadline (run by the daily cleanup); needs only the imports table."""
        from app.services.catalog_import import ImportSweeper

        return ImportSweeper(self.import_repo, self.clock, self.import_limits)

    def health(self) -> HealthReport:
        """Status of the backing services: DynamoDB is critical, SNS is not."""
        from app.services.health import check_health

        if self.ports.health_probes is not None:
            return check_health(*self.ports.health_probes)
        from app.adapters.dynamodb.health import DynamoTableProbe
        from app.adapters.sns import SnsTopicProbe

        s = self.settings
        return check_health(
            critical=[DynamoTableProbe(self.dynamodb, s.users_table)],
            optional=[SnsTopicProbe(self.client("sns"), s.user_created_topic_arn)],
        )


def bootstrap(settings: Settings | None = None, ports: Ports | None = None) -> Container:
    """A container for these settings (default: the environment's), with any adapters replaced by `ports`."""
    return Container(settings or get_settings(), ports)


@lru_cache
def get_container() -> Container:
    """The process-wide container (reused by warm invocations)."""
    return bootstrap()
