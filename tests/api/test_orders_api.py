"""Catalog and orders over HTTP with in-memory fakes behind the container."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

import workers.order_workflow
from app.domain.orders import OrderStatus
from tests.api.conftest import FakeContainer
from tests.support.order_world import AslExecution
from tests.support.shop import wired_tasks
from tests.support.tokens import as_admin, as_user

ADMIN = as_admin()
ADA = as_user("ada")
BOB = as_user("bob")


@pytest.fixture
def shop(client: TestClient) -> TestClient:
    for pid, price, stock in [("mug", 1250, 10), ("tea", 399, 5)]:
        assert (
            client.put(f"/products/{pid}", json={"name": pid.title(), "price": price}, headers=ADMIN).status_code == 200
        )
        assert client.post(f"/products/{pid}/restock", json={"quantity": stock}, headers=ADMIN).status_code == 200
    for sub in ("ada", "bob"):
        profile = {"name": sub.title(), "email": f"{sub}@example.com"}
        assert client.post("/users", json=profile, headers=as_user(sub, f"{sub}@example.com")).status_code == 201
    return client


def test_catalog_admin_writes_users_read(shop: TestClient) -> None:
    mug = shop.get("/products/mug", headers=ADA).json()
    assert mug | {"createdAt": None, "updatedAt": None} == {
        "id": "mug",
        "name": "Mug",
        "price": 1250,
        "currency": "USD",
        "available": 10,
        "reserved": 0,
        "sold": 0,
        "shards": 1,
        "soldOut": False,
        "createdAt": None,
        "updatedAt": None,
    }
    assert shop.put("/products/mug", json={"name": "Mug", "price": 1}, headers=ADA).status_code == 403
    assert shop.post("/products/mug/restock", json={"quantity": 1}, headers=BOB).status_code == 403
    assert shop.get("/products/mug").status_code == 401
    assert shop.get("/products/nope", headers=ADA).status_code == 404
    assert shop.post("/products/nope/restock", json={"quantity": 1}, headers=ADMIN).status_code == 404
    for bad in [{"name": "X", "price": 0}, {"name": "X", "price": 1.5}, {"name": "X", "price": 1, "currency": "US"}]:
        assert shop.put("/products/x", json=bad, headers=ADMIN).status_code == 422
    assert shop.post("/products/mug/restock", json={"quantity": 0}, headers=ADMIN).status_code == 422
    first = shop.get("/products", params={"limit": 1}, headers=ADA).json()
    second = shop.get("/products", params={"limit": 1, "cursor": first["nextCursor"]}, headers=ADA).json()
    assert [p["id"] for p in first["items"] + second["items"]] == ["mug", "tea"]
    assert second["nextCursor"] is None
    assert shop.get("/products", params={"cursor": "forged"}, headers=ADA).status_code == 400


def test_place_order_is_202_with_location_and_server_total(shop: TestClient, fake: FakeContainer) -> None:
    body = {"items": [{"productId": "mug", "quantity": 2}, {"productId": "tea", "quantity": 1}]}
    reply = shop.post("/orders", json=body, headers=ADA)
    assert reply.status_code == 202, reply.text
    order = reply.json()
    assert reply.headers["location"] == f"/orders/{order['id']}"
    assert (order["status"], order["total"], order["currency"], order["userId"]) == ("PENDING", 2899, "USD", "ada")
    assert order["items"][0] == {"productId": "mug", "quantity": 2, "unitPrice": 1250}
    assert fake.world.queue.sent == [order["id"]]
    assert shop.get(reply.headers["location"], headers=ADA).json() == order
    assert shop.get(reply.headers["location"], headers=ADMIN).status_code == 200
    assert shop.get(reply.headers["location"], headers=BOB).status_code == 403
    assert shop.get("/orders/missing", headers=ADA).status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        {"items": []},
        {"items": [{"productId": f"p{i}", "quantity": 1} for i in range(51)]},
        {"items": [{"productId": "mug", "quantity": 0}]},
        {"items": [{"productId": "mug", "quantity": 1001}]},
        {"items": [{"productId": "mug", "quantity": 1}, {"productId": "mug", "quantity": 2}]},
        {"items": [{"productId": "ghost", "quantity": 1}]},
        {"items": [{"productId": "mug", "quantity": 1, "price": 1}]},
        {"items": [{"productId": "mug", "quantity": 1}], "paymentToken": "visa"},
    ],
)
def test_bad_orders_are_422_and_store_nothing(shop: TestClient, fake: FakeContainer, body: dict[str, object]) -> None:
    reply = shop.post("/orders", json=body, headers=ADA)
    assert reply.status_code == 422, reply.text
    assert reply.headers["content-type"] == "application/problem+json"
    assert fake.world.orders.orders == {}


def test_idempotency_key(shop: TestClient, fake: FakeContainer) -> None:
    body = {"items": [{"productId": "mug", "quantity": 1}]}
    key = {"Idempotency-Key": "order-123"}
    first = shop.post("/orders", json=body, headers={**ADA, **key})
    again = shop.post("/orders", json=body, headers={**ADA, **key})
    assert again.status_code == 202
    assert again.json()["id"] == first.json()["id"]
    assert again.headers["idempotent-replayed"] == "true"
    assert len(fake.world.orders.orders) == 1
    other = shop.post("/orders", json={"items": [{"productId": "mug", "quantity": 2}]}, headers={**ADA, **key})
    assert other.status_code == 422
    assert other.json()["code"] == "IdempotencyKeyReused"
    assert shop.post("/orders", json=body, headers={**ADA, "Idempotency-Key": "bad key!"}).status_code == 422


def test_enqueue_failure_still_accepts(shop: TestClient, fake: FakeContainer) -> None:
    fake.world.queue.broken = True
    reply = shop.post("/orders", json={"items": [{"productId": "mug", "quantity": 1}]}, headers=ADA)
    assert reply.status_code == 202
    assert fake.world.orders.orders[reply.json()["id"]].status is OrderStatus.PENDING


def test_cancel_and_listing(shop: TestClient, fake: FakeContainer) -> None:
    ids = []
    for _ in range(3):
        ids.append(
            shop.post("/orders", json={"items": [{"productId": "tea", "quantity": 1}]}, headers=ADA).json()["id"]
        )
        fake.world.clock.advance(seconds=1)
    assert shop.post(f"/orders/{ids[0]}/cancel", headers=BOB).status_code == 403
    cancelled = shop.post(f"/orders/{ids[0]}/cancel", headers=ADA)
    assert (cancelled.status_code, cancelled.json()["status"]) == (200, "CANCELLED")
    fake.world.add_user("ada")
    fake.world.order_dispatcher.dispatch(ids[1])
    fake.world.order_workflow.reserve(ids[1])
    fake.world.order_workflow.charge(ids[1])
    paid = shop.post(f"/orders/{ids[1]}/cancel", headers=ADA)
    assert paid.status_code == 409
    assert paid.json()["code"] == "IllegalTransition"

    page = shop.get("/users/ada/orders", params={"limit": 2}, headers=ADA).json()
    rest = shop.get("/users/ada/orders", params={"limit": 2, "cursor": page["nextCursor"]}, headers=ADA).json()
    assert [o["id"] for o in page["items"] + rest["items"]] == ids[::-1]
    assert shop.get("/users/ada/orders", headers=BOB).status_code == 403
    assert shop.get("/users/ada/orders", headers=ADMIN).status_code == 200
    assert shop.get("/users/bob/orders", params={"cursor": page["nextCursor"]}, headers=BOB).status_code == 400


def test_the_request_record_names_the_order_it_created(shop: TestClient, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    reply = shop.post("/orders", json={"items": [{"productId": "mug", "quantity": 1}]}, headers=ADA)
    lines = capsys.readouterr().out.splitlines()
    records = [json.loads(line) for line in lines if '"message":"request"' in line]
    assert [r["location"] for r in records] == [reply.headers["location"]]
    # The order's metric rides in the request's one EMF record: one line an order, not two.
    assert records[0]["OrdersPlaced"] == [1]
    metrics = {m["Name"] for m in records[0]["_aws"]["CloudWatchMetrics"][0]["Metrics"]}
    assert {"OrdersPlaced", "UserRequestSuccess"} <= metrics
    assert sum('"OrdersPlaced"' in line for line in lines) == 1
    shop.get(reply.headers["location"], headers=ADA)
    last = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert "location" not in last
    assert "OrdersPlaced" not in last


def test_an_admin_reshards_a_product_and_its_stock_stays_one_sum(shop: TestClient) -> None:
    assert shop.put("/products/mug/shards", json={"shards": 4}, headers=ADA).status_code == 403
    grown = shop.put("/products/mug/shards", json={"shards": 4}, headers=ADMIN)
    assert grown.status_code == 200
    assert (grown.json()["shards"], grown.json()["available"]) == (4, 10)
    restocked = shop.post("/products/mug/restock", json={"quantity": 7}, headers=ADMIN).json()
    assert (restocked["shards"], restocked["available"]) == (4, 17)
    for shards in (4, 2, 65):  # never fewer, never as many, never past the most
        refused = shop.put("/products/mug/shards", json={"shards": shards}, headers=ADMIN)
        assert refused.status_code == 422
        assert refused.headers["content-type"] == "application/problem+json"
    assert shop.put("/products/nope/shards", json={"shards": 2}, headers=ADMIN).status_code == 404


def test_a_sold_out_product_is_refused_at_the_api_with_409_and_stores_nothing(
    shop: TestClient, fake: FakeContainer, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = fake.world
    monkeypatch.setattr(workers.order_workflow, "services", lambda: world.container)  # the saga's tasks on the fakes
    order = shop.post("/orders", json={"items": [{"productId": "tea", "quantity": 5}]}, headers=ADA).json()
    keyed = {**ADA, "Idempotency-Key": "k-1"}
    shop.post("/orders", json={"items": [{"productId": "tea", "quantity": 5}]}, headers=keyed)
    for order_id in list(world.orders.orders):
        world.order_dispatcher.dispatch(order_id)
        AslExecution(wired_tasks(), {"orderId": order_id}).run()
    assert world.orders.orders[order["id"]].status is OrderStatus.CONFIRMED  # the first sold every unit
    stored = len(world.orders.orders)

    refused = shop.post("/orders", json={"items": [{"productId": "tea", "quantity": 1}]}, headers=BOB)

    assert refused.status_code == 409
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["code"] == "SoldOut"
    assert len(world.orders.orders) == stored
    assert shop.get("/products/tea", headers=BOB).json()["soldOut"] is True
    # A retry of the order accepted before the sell-out still gets its order back, not a refusal.
    replay = shop.post("/orders", json={"items": [{"productId": "tea", "quantity": 5}]}, headers=keyed)
    assert replay.status_code == 202
    assert replay.headers["Idempotent-Replayed"] == "true"
    # A restock ends it: the next order is accepted.
    shop.post("/products/tea/restock", json={"quantity": 1}, headers=ADMIN)
    assert shop.post("/orders", json={"items": [{"productId": "tea", "quantity": 1}]}, headers=BOB).status_code == 202
