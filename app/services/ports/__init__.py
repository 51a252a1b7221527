"""Every port of the services (Protocols, their DTOs and their exceptions), one module per concern.

common: pages, the clock, notifications, health · users · orders: catalog, orders, workflow ·
events: analytics, stock watch, the cleanup's views · imports: catalog imports · auth: secrets and keys.
"""

from app.services.ports.auth import JwksSource, KeySource, SecretSource
from app.services.ports.common import PAGE_LIMIT, Clock, HealthProbe, Message, Page, PageKey, Publisher
from app.services.ports.events import (
    AnalyticsStore,
    DailyAggregate,
    IdempotencyRecords,
    Sale,
    StaleOrders,
    StockWatch,
    WorkflowExecutions,
)
from app.services.ports.imports import (
    Chunk,
    ContinuationQueue,
    Download,
    ImportRepository,
    ImportStore,
    ImportSuperseded,
    ObjectChanged,
    ObjectRef,
    ObjectUnreadable,
    UploadUrl,
)
from app.services.ports.orders import (
    EventPublisher,
    IdempotencyClaim,
    Inventory,
    KeyAlreadyClaimed,
    OrderQueue,
    OrderRepository,
    PaymentGateway,
    ProductRepository,
    WorkflowStarter,
)
from app.services.ports.users import UserRepository

__all__ = [
    "PAGE_LIMIT",
    "AnalyticsStore",
    "Chunk",
    "Clock",
    "ContinuationQueue",
    "DailyAggregate",
    "Download",
    "EventPublisher",
    "HealthProbe",
    "IdempotencyClaim",
    "IdempotencyRecords",
    "ImportRepository",
    "ImportStore",
    "ImportSuperseded",
    "Inventory",
    "JwksSource",
    "KeyAlreadyClaimed",
    "KeySource",
    "Message",
    "ObjectChanged",
    "ObjectRef",
    "ObjectUnreadable",
    "OrderQueue",
    "OrderRepository",
    "Page",
    "PageKey",
    "PaymentGateway",
    "ProductRepository",
    "Publisher",
    "Sale",
    "SecretSource",
    "StaleOrders",
    "StockWatch",
    "UploadUrl",
    "UserRepository",
    "WorkflowExecutions",
    "WorkflowStarter",
]
