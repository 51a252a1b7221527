"""Builds the catalog and order services; WorkerContainer (and app.bootstrap.Container, its subclass) hold them.

Adapters are imported inside each property so that a worker loads only what it uses.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any

from app.bootstrap_aws import AwsClients
from app.bootstrap_events import EventServices
from app.bootstrap_imports import ImportServices
from app.services.cursor import CursorCodec
from app.settings import Settings

if TYPE_CHECKING:
    from app.adapters.dynamo_inventory import DynamoInventory
    from app.adapters.dynamo_orders import DynamoOrderRepository
    from app.adapters.dynamo_products import DynamoProductRepository
    from app.adapters.dynamo_users import DynamoUserRepository
    from app.adapters.messaging import EventBridgePublisher
    from app.adapters.payments import SimulatedPaymentGateway
    from app.services.catalog import CatalogService
    from app.services.order_workflow import OrderDispatcher, OrderWorkflow
    from app.services.orders import OrderService
    from app.services.reconcile import OrderReconciler


def _now() -> datetime:
    return datetime.now(UTC)


class OrderServices:
    """Catalog, orders, dispatcher and workflow, each built on first use."""

    # Provided by WorkerContainer.
    settings: Settings
    dynamodb: Any
    client: Callable[[str], Any]

    @cached_property
    def cursor_key(self) -> Callable[[], str]:
        """The pagination cursors' key (read from Secrets Manager on first use in AWS)."""
        from app.bootstrap_auth import cursor_key

        return cursor_key(self.settings, self.client)

    @cached_property
    def user_repo(self) -> DynamoUserRepository:
        """Users table."""
        from app.adapters.dynamo_users import DynamoUserRepository

        return DynamoUserRepository(self.dynamodb, self.settings.users_table)

    @cached_property
    def product_repo(self) -> DynamoProductRepository:
        """Products table."""
        from app.adapters.dynamo_products import DynamoProductRepository

        return DynamoProductRepository(self.dynamodb, self.settings.products_table)

    @cached_property
    def order_repo(self) -> DynamoOrderRepository:
        """Orders table with its Idempotency-Key claims."""
        from app.adapters.dynamo_orders import DynamoOrderRepository

        s = self.settings
        return DynamoOrderRepository(self.dynamodb, s.orders_table, s.idempotency_table)

    @cached_property
    def payments(self) -> SimulatedPaymentGateway:
        """The simulated payment gateway and its ledger."""
        from app.adapters.payments import SimulatedPaymentGateway

        s = self.settings
        return SimulatedPaymentGateway(self.dynamodb, s.payments_table, s.payment_limit_minor, _now)

    @cached_property
    def catalog(self) -> CatalogService:
        """Catalog use cases."""
        from app.services.catalog import CatalogService

        return CatalogService(self.product_repo, _now, CursorCodec(self.cursor_key, "products"))

    @cached_property
    def orders(self) -> OrderService:
        """Order use cases of the API."""
        from app.adapters.messaging import SqsOrderQueue
        from app.services.orders import OrderService

        s = self.settings
        queue = SqsOrderQueue(self.client("sqs"), s.order_queue_url)
        return OrderService(self.order_repo, self.product_repo, queue, _now, self.cursor_key, self.user_repo)

    @cached_property
    def order_dispatcher(self) -> OrderDispatcher:
        """The order queue worker's use case."""
        from app.adapters.messaging import StepFunctionsStarter
        from app.services.order_workflow import OrderDispatcher

        starter = StepFunctionsStarter(self.client("stepfunctions"), self.settings.order_workflow_arn)
        return OrderDispatcher(self.order_repo, starter, _now)

    @cached_property
    def inventory(self) -> DynamoInventory:
        """Stock moves, each in one transaction with the order's own record."""
        from app.adapters.dynamo_inventory import DynamoInventory

        return DynamoInventory(self.dynamodb, self.settings.products_table, self.order_repo)

    @cached_property
    def order_bus(self) -> EventBridgePublisher:
        """The order events bus."""
        from app.adapters.messaging import EventBridgePublisher

        return EventBridgePublisher(self.client("events"), self.settings.event_bus_name)

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
            clock=_now,
        )

    @cached_property
    def order_reconciler(self) -> OrderReconciler:
        """Settles orders whose workflow execution ended abnormally."""
        from app.services.reconcile import OrderReconciler

        return OrderReconciler(self.order_repo, self.inventory, self.payments, self.order_bus, _now)


class WorkerContainer(OrderServices, EventServices, ImportServices):
    """The order and event services, for workers: no web framework, no auth, no users API."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.clients = AwsClients(settings)

    def client(self, service: str, signature_version: str | None = None) -> Any:
        """The boto3 client of a service, created once per container."""
        return self.clients(service, signature_version)

    @cached_property
    def dynamodb(self) -> Any:
        """The DynamoDB client."""
        return self.client("dynamodb")
