"""The demo catalog `make run` starts with (written by the tooling, not through the API)."""

from __future__ import annotations

from datetime import UTC, datetime

from app.adapters.dynamodb import product_items
from app.domain.money import Money
from infra.local.provision import client
from infra.local.template import Stack

# (productId, name, price in minor units, currency, stock)
DEMO_CATALOG = (
    ("coffee-mug", "Coffee mug", 1250, "USD", 100),
    ("green-tea", "Green tea, 50 bags", 899, "USD", 250),
    ("notebook", "Dotted notebook A5", 1599, "USD", 40),
    ("limited-print", "Limited art print", 4900, "USD", 1),
)


def seed_catalog(stack: Stack) -> list[str]:
    """Put the demo products (idempotent: an existing product is left as it is); their ids."""
    dynamodb = client(stack, "dynamodb")
    now = datetime.now(UTC)
    table = stack.name("ProductsTable")
    for product_id, name, price, currency, stock in DEMO_CATALOG:
        item = product_items.new_item(product_id, name, Money(price, currency), stock, now)
        try:
            dynamodb.put_item(TableName=table, Item=item, ConditionExpression=product_items.ABSENT)
        except dynamodb.exceptions.ConditionalCheckFailedException:
            continue
    return [p[0] for p in DEMO_CATALOG]
