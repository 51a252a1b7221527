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
    from app.adapters.dynamo_orders import DynamoOrderRepository
    from app.adapters.dynamo_products import DynamoProductRepository
    from app.adapters.payments import SimulatedPaymentGateway
    from app.services.catalog import CatalogService
    from app.services.order_workflow import OrderDispatcher, OrderWorkflow
    from app.services.orders import OrderService


def _now() -> datetime:
    return datetime.now(UTC)


class OrderServices:
    """Catalog, orders, dispatcher and workflow, each built on first use."""

    # Provided by WorkerContainer.
    settings: Settings
    dynamodb: Any
    client: Callable[[str], Any]

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

        return CatalogService(self.product_repo, _now, CursorCodec(self.settings.cursor_signing_key, "products"))

    @cached_property
    def orders(self) -> OrderService:
        """Order use cases of the API."""
        from app.adapters.messaging import SqsOrderQueue
        from app.services.orders import OrderService

        s = self.settings
        queue = SqsOrderQueue(self.client("sqs"), s.order_queue_url)
        return OrderService(self.order_repo, self.product_repo, queue, _now, s.cursor_signing_key)

    @cached_property
    def order_dispatcher(self) -> OrderDispatcher:
        """The order queue worker's use case."""
        from app.adapters.messaging import StepFunctionsStarter
        from app.services.order_workflow import OrderDispatcher

        starter = StepFunctionsStarter(self.client("stepfunctions"), self.settings.order_workflow_arn)
        return OrderDispatcher(self.order_repo, starter, _now)

    @cached_property
    def order_workflow(self) -> OrderWorkflow:
        """The workflow's task use cases."""
        from app.adapters.dynamo_inventory import DynamoInventory
        from app.adapters.dynamo_users import DynamoUserRepository
        from app.adapters.messaging import EventBridgePublisher
        from app.services.order_workflow import OrderWorkflow

        s = self.settings
        return OrderWorkflow(
            orders=self.order_repo,
            products=self.product_repo,
            users=DynamoUserRepository(self.dynamodb, s.users_table),
            inventory=DynamoInventory(self.dynamodb, s.products_table, self.order_repo),
            payments=self.payments,
            events=EventBridgePublisher(self.client("events"), s.event_bus_name),
            clock=_now,
        )


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
