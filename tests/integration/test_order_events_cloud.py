"""The order event consumers on the local cloud, with real EventBridge envelopes; GET /analytics/daily."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

import workers.order_events
from app.adapters.dynamodb.analytics import day_key, shard_of
from app.adapters.dynamodb.products import DynamoProductRepository
from app.domain.money import Money
from infra.local.payloads import LambdaContext, eventbridge_event
from infra.local.provision import client as aws
from infra.local.template import Stack
from tests.support.event_helpers import as_api, as_worker, capture_events, drain, subscribe_queue
from tests.support.tokens import Signer

NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)


def processed(order_id: str, lines: list[tuple[str, int, int]], user: str = "ada") -> dict[str, Any]:
    items = [{"productId": p, "quantity": q, "unitPrice": u} for p, q, u in lines]
    total = sum(q * u for _, q, u in lines)
    detail = {"version": 1, "orderId": order_id, "userId": user, "status": "CONFIRMED", "items": items}
    return {**detail, "total": total, "currency": "USD", "reason": None}


def stock(stack: Stack, **available: int) -> DynamoProductRepository:
    repo = DynamoProductRepository(aws(stack, "dynamodb"), stack.name("ProductsTable"))
    for product_id, quantity in available.items():
        repo.upsert(product_id, product_id.title(), Money(500, "USD"), NOW)
        repo.restock(product_id, quantity, NOW)
    return repo


def test_order_processed_confirms_counts_once_and_announces_low_stock(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    notifications = subscribe_queue(stack)
    low_stock = capture_events(stack, "LowStock")
    stock(stack, mug=4, tea=50)  # the threshold of OrderEventsFunction is 5
    as_worker(stack, monkeypatch, "OrderEventsFunction")
    event = eventbridge_event("OrderProcessed", processed("o-1", [("mug", 2, 500), ("tea", 1, 234)]))

    first = workers.order_events.order_processed(event, LambdaContext())
    again = workers.order_events.order_processed(event, LambdaContext())  # an at-least-once redelivery

    assert (first["counted"], again["counted"]) == (True, False)
    assert (first["lowStock"], again["lowStock"]) == (["mug"], [])
    sns = drain(stack, notifications, 2)
    assert [m["Subject"] for m in sns] == ["Order Confirmation"] * 2
    assert sns[0]["MessageAttributes"]["userId"] == {"Type": "String", "Value": "ada"}
    assert sns[0]["MessageAttributes"]["eventType"] == {"Type": "String", "Value": "OrderProcessed"}
    assert "o-1" in sns[0]["Message"]
    assert "2 x mug @ $5.00" in sns[0]["Message"]
    assert "Total: $12.34" in sns[0]["Message"]
    (alert,) = drain(stack, low_stock, 1)
    assert (alert["source"], alert["detail-type"]) == ("order-service", "LowStock")
    assert alert["detail"] == {"version": 1, "productId": "mug", "available": 4, "threshold": 5, "orderId": "o-1"}
    assert drain(stack, low_stock, 1, timeout=1) == []  # once per crossing, not per event

    items = aws(stack, "dynamodb").scan(TableName=stack.name("AnalyticsTable"))["Items"]
    day = {
        i["sk"]["S"]: i for i in items if i["pk"]["S"] == day_key(date(2026, 11, 26), shard_of("OrderProcessed#o-1"))
    }
    assert set(day) == {"UNITS#mug", "UNITS#tea"}  # the order is counted on its first product's item
    assert (day["UNITS#mug"]["orders"], day["UNITS#mug"]["amount_USD"]) == ({"N": "1"}, {"N": "1234"})
    assert (day["UNITS#mug"]["units"], day["UNITS#tea"]["units"]) == ({"N": "2"}, {"N": "1"})
    assert "orders" not in day["UNITS#tea"]


def test_low_stock_rearms_when_stock_is_back(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    low_stock = capture_events(stack, "LowStock")
    repo = stock(stack, mug=3)
    as_worker(stack, monkeypatch, "OrderEventsFunction")
    consume = workers.order_events.order_processed
    consume(eventbridge_event("OrderProcessed", processed("o-1", [("mug", 1, 500)])), LambdaContext())
    repo.restock("mug", 10, NOW)
    consume(eventbridge_event("OrderProcessed", processed("o-2", [("mug", 1, 500)])), LambdaContext())  # re-arms
    dynamodb = aws(stack, "dynamodb")
    dynamodb.update_item(
        TableName=stack.name("ProductsTable"),
        Key={"productId": {"S": "mug"}},
        UpdateExpression="SET available = :a",
        ExpressionAttributeValues={":a": {"N": "1"}},
    )
    consume(eventbridge_event("OrderProcessed", processed("o-3", [("mug", 1, 500)])), LambdaContext())
    alerts = drain(stack, low_stock, 2)
    assert [(a["detail"]["orderId"], a["detail"]["available"]) for a in alerts] == [("o-1", 3), ("o-3", 1)]


def test_order_failed_notifies_the_user_with_the_reason(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    notifications = subscribe_queue(stack)
    as_worker(stack, monkeypatch, "OrderFailedFunction")
    detail = {**processed("o-7", [("mug", 1, 500)], user="bob"), "status": "FAILED", "reason": "PaymentFailed"}
    result = workers.order_events.order_failed(eventbridge_event("OrderFailed", detail), LambdaContext())
    assert result == {"orderId": "o-7", "reason": "PaymentFailed"}
    (message,) = drain(stack, notifications, 1)
    assert message["Subject"] == "Order Failed"
    assert "Reason: PaymentFailed" in message["Message"]
    assert message["MessageAttributes"]["userId"]["Value"] == "bob"
    assert message["MessageAttributes"]["eventType"]["Value"] == "OrderFailed"


@pytest.mark.parametrize(
    "event",
    [
        eventbridge_event("OrderProcessed", {"orderId": "o-1"}, event_id="evt-bad-detail"),
        eventbridge_event("OrderFailed", processed("o-1", [("mug", 1, 1)]), event_id="evt-wrong-type"),
        {"id": "evt-no-envelope"},
    ],
)
def test_consumer_errors_are_logged_with_the_event_id_and_raised(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, event: dict[str, Any]
) -> None:
    as_worker(stack, monkeypatch, "OrderEventsFunction")
    with pytest.raises(Exception, match=r"."):
        workers.order_events.order_processed(event, LambdaContext())
    failures = [r for r in caplog.records if r.getMessage() == "OrderProcessed consumer failed"]
    assert [getattr(r, "eventId", None) for r in failures] == [event["id"]]


def test_analytics_daily_returns_the_aggregates_to_admins(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, client: TestClient, auth: Signer
) -> None:
    as_worker(stack, monkeypatch, "OrderEventsFunction")
    stock(stack, mug=100, tea=100)
    for n, lines in enumerate([[("mug", 2, 500)], [("mug", 1, 500), ("tea", 3, 200)]]):
        event = eventbridge_event("OrderProcessed", processed(f"o-{n}", lines), time="2026-11-25T23:59:59Z")
        workers.order_events.order_processed(event, LambdaContext())
    as_api(stack, monkeypatch)
    admin = auth.admin()

    response = client.get("/analytics/daily", params={"from": "2026-11-24", "to": "2026-11-26"}, headers=admin)

    assert response.status_code == 200, response.text
    assert response.json() == {
        "items": [
            {"date": "2026-11-24", "orders": 0, "revenue": {}, "units": {}},
            {"date": "2026-11-25", "orders": 2, "revenue": {"USD": 2100}, "units": {"mug": 3, "tea": 3}},
            {"date": "2026-11-26", "orders": 0, "revenue": {}, "units": {}},
        ]
    }
    user = auth.user("ada")
    days = {"from": "2026-11-24", "to": "2026-11-26"}
    assert client.get("/analytics/daily", params=days, headers=user).status_code == 403
    bad = client.get("/analytics/daily", params={"from": "2026-11-26", "to": "2026-11-24"}, headers=admin)
    assert bad.status_code == 422
    assert bad.headers["content-type"].startswith("application/problem+json")
    not_a_date = {"from": "yesterday", "to": "2026-11-24"}
    assert client.get("/analytics/daily", params=not_a_date, headers=admin).status_code == 422


def test_a_day_counted_before_sales_items_existed_still_adds_up(stack: Stack) -> None:
    # Days written by earlier layouts hold TOTAL and REVENUE#<currency>, or SALES#<currency>; all add up.
    from app.adapters.dynamodb.analytics import DynamoAnalytics
    from app.services.ports.events import Sale

    dynamodb, table = aws(stack, "dynamodb"), stack.name("AnalyticsTable")
    earlier = (("TOTAL", "orders", "2"), ("REVENUE#USD", "amount", "1000"), ("SALES#USD", "orders", "1"))
    for sk, attribute, value in earlier:
        dynamodb.put_item(
            TableName=table, Item={"pk": {"S": "DAY#2026-11-26"}, "sk": {"S": sk}, attribute: {"N": value}}
        )
    store = DynamoAnalytics(dynamodb, table, lambda: datetime(2026, 11, 26, tzinfo=UTC))
    assert store.record("sale-1", Sale(day=date(2026, 11, 26), currency="USD", revenue=500, units={"mug": 1}))
    (day,) = store.days(date(2026, 11, 26), date(2026, 11, 26))
    assert (day.orders, day.revenue, day.units) == (4, {"USD": 1500}, {"mug": 1})


def test_a_days_sales_spread_over_its_shards_and_read_back_whole(stack: Stack) -> None:
    from app.adapters.dynamodb.analytics import DynamoAnalytics
    from app.services.ports.events import Sale

    dynamodb, table = aws(stack, "dynamodb"), stack.name("AnalyticsTable")
    store = DynamoAnalytics(dynamodb, table, lambda: datetime(2026, 11, 26, tzinfo=UTC))
    sales = [f"sale-{i}" for i in range(40)]
    for sale in sales:
        store.record(sale, Sale(day=date(2026, 11, 26), currency="USD", revenue=100, units={"mug": 2}))
    keys = {i["pk"]["S"] for i in dynamodb.scan(TableName=table)["Items"] if i["pk"]["S"].startswith("DAY#")}
    assert len(keys) == len({shard_of(s) for s in sales}) > 10  # no one key takes every sale
    (day,) = store.days(date(2026, 11, 25), date(2026, 11, 27))
    assert (day.day, day.orders, day.revenue, day.units) == (date(2026, 11, 26), 40, {"USD": 4000}, {"mug": 80})
