"""Through the local runtime: a lost enqueue is repaired by the scheduled cleanup and the order reaches
CONFIRMED; its confirmation is printed (as `make run` does) and the daily analytics count it."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from app.adapters.dynamodb.analytics import DynamoAnalytics
from app.adapters.dynamodb.orders import DynamoOrderRepository
from app.adapters.dynamodb.products import DynamoProductRepository
from app.adapters.dynamodb.users import DynamoUserRepository
from app.domain.money import Money
from app.domain.orders import Order, OrderLine, OrderStatus
from app.domain.users import User
from infra.local.notifications import NotificationPrinter
from infra.local.provision import client as aws
from infra.local.runtime import LocalRuntime
from infra.local.template import Stack


def wait_for(check: Callable[[], bool], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.3)


@pytest.mark.slow
def test_a_lost_enqueue_is_repaired_confirmed_notified_and_counted(stack: Stack, runtime: LocalRuntime) -> None:
    dynamodb = aws(stack, "dynamodb")
    now = datetime.now(UTC)
    products = DynamoProductRepository(dynamodb, stack.name("ProductsTable"))
    products.upsert("mug", "Mug", Money(1234, "USD"), now)
    products.restock("mug", 10, now)
    DynamoUserRepository(dynamodb, stack.name("UsersTable")).add(User("ada", "Ada", "ada@example.com", now, now))
    orders = DynamoOrderRepository(dynamodb, stack.name("OrdersTable"), stack.name("IdempotencyTable"))
    placed = now - timedelta(minutes=20)  # accepted (202) 20 minutes ago; its enqueue was lost
    orders.add(Order("lost-1", "ada", (OrderLine("mug", 1, 1234),), "USD", OrderStatus.PENDING, placed, placed), None)
    printed: list[str] = []
    printer = NotificationPrinter(stack, log=printed.append).start()
    try:
        outcome = runtime.fire("CleanupFunction")  # what `make invoke FN=CleanupFunction` does, on demand

        assert outcome.ok, outcome.error
        assert (outcome.result["requeued"], outcome.result["complete"]) == (1, True)
        wait_for(lambda: (o := orders.get("lost-1")) is not None and o.status is OrderStatus.CONFIRMED, "CONFIRMED")
        wait_for(lambda: any("Order Confirmation" in line for line in printed), "the printed confirmation")
    finally:
        printer.stop()
    (confirmation,) = [line for line in printed if "Order Confirmation" in line]
    assert confirmation.startswith("[notification] to ada (OrderProcessed): Order Confirmation")
    assert "lost-1" in confirmation
    assert "Total: $12.34" in confirmation
    analytics = DynamoAnalytics(dynamodb, stack.name("AnalyticsTable"), lambda: now)
    span = (now.date(), now.date() + timedelta(days=1))  # the event's day: today, or tomorrow past midnight
    wait_for(lambda: bool(analytics.days(*span)), "the daily aggregate", timeout=60)
    (day,) = analytics.days(*span)
    assert (day.orders, dict(day.revenue), dict(day.units)) == (1, {"USD": 1234}, {"mug": 1})
