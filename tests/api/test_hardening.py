"""Hostile and careless requests: each class of bad input is a clear 4xx problem, and nothing runs."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from app.domain.orders import OrderStatus
from tests.api.conftest import FakeContainer
from tests.support.tokens import as_admin, as_user, bearer, hs256

PROBLEM = "application/problem+json"
ADA = as_user("ada")


@pytest.fixture
def ada(client: TestClient) -> str:
    created = client.post("/users", json={"name": "Ada", "email": "ada@example.com"}, headers=ADA)
    assert created.status_code == 201
    return str(created.json()["id"])


@pytest.mark.parametrize("value", ['"²"', '"1¹"', "9" * 5000, '"٣"', "W/", '""', '"1", "2"', "\t", "1e3", "-1"])
@pytest.mark.parametrize("method", ["PATCH", "DELETE"])
def test_an_unparsable_if_match_is_412_never_500(client: TestClient, ada: str, method: str, value: str) -> None:
    body = {"json": {"name": "New"}} if method == "PATCH" else {}
    response = client.request(method, f"/users/{ada}", headers={**ADA, "if-match": value.encode()}, **body)
    assert (response.status_code, response.headers["content-type"]) == (412, PROBLEM)
    assert client.get(f"/users/{ada}", headers=ADA).json()["name"] == "Ada"  # nothing changed


@pytest.mark.parametrize("value", ['"1"', 'W/"1"', "1", "*"])
def test_valid_if_match_forms_still_work(client: TestClient, ada: str, value: str) -> None:
    assert client.patch(f"/users/{ada}", json={"name": "B"}, headers={**ADA, "if-match": value}).status_code == 200


@pytest.mark.parametrize(
    ("start", "end"),
    [("9999-12-31", "9999-12-31"), ("0001-01-01", "0001-01-02"), ("2026-01-02", "2026-01-01"), ("2026-01-01", "2027")],
)
def test_edge_dates_in_analytics_are_422(client: TestClient, start: str, end: str) -> None:
    response = client.get("/analytics/daily", params={"from": start, "to": end}, headers=as_admin())
    assert (response.status_code, response.headers["content-type"]) == (422, PROBLEM)


def chunked(size: int) -> Iterator[bytes]:
    """A body with no Content-Length: TestClient sends it chunked."""
    for _ in range(size // 65536):
        yield b" " * 65536


@pytest.mark.parametrize("path", ["/orders/{id}/cancel", "/users", "/orders", "/products/imports"])
def test_an_over_limit_chunked_body_is_413_and_nothing_runs(
    client: TestClient, fake: FakeContainer, ada: str, path: str
) -> None:
    fake.world.catalog.put("mug", "Mug", 100, "USD")
    fake.world.catalog.restock("mug", 5)
    order = client.post("/orders", json={"items": [{"productId": "mug", "quantity": 1}]}, headers=ADA).json()
    headers = {**ADA, "content-type": "application/json"}
    response = client.post(path.format(id=order["id"]), content=chunked(2 * 1024 * 1024), headers=headers)
    assert (response.status_code, response.headers["content-type"]) == (413, PROBLEM)
    assert fake.world.orders.orders[order["id"]].status is OrderStatus.PENDING  # the cancel did not run
    assert len(fake.world.orders.orders) == 1


def test_a_small_chunked_body_is_read_as_usual(client: TestClient, ada: str) -> None:
    body = iter([b'{"name": ', b'"Chunked"}'])
    response = client.patch(f"/users/{ada}", content=body, headers={**ADA, "content-type": "application/json"})
    assert (response.status_code, response.json()["name"]) == (200, "Chunked")


@pytest.mark.parametrize(
    "name", ["A\x00B", "line\r\nbreak", "\x1b[31mred", "\u200b", "\u200b\u200c", " \u2060 ", "\u0085x", "\u00ad"]
)
def test_names_with_control_or_only_invisible_characters_are_422(client: TestClient, name: str) -> None:
    for path, body, headers in [
        ("/users", {"name": name, "email": "ada@example.com"}, ADA),
        ("/products/mug", {"name": name, "price": 100}, as_admin()),
    ]:
        method = client.post if path == "/users" else client.put
        response = method(path, json=body, headers=headers)
        assert (response.status_code, response.headers["content-type"]) == (422, PROBLEM), (path, name)
        assert response.json()["errors"][0]["field"] == "name"


def test_names_are_stored_in_nfc(client: TestClient) -> None:
    decomposed = "Cafe\u0301"
    created = client.post("/users", json={"name": decomposed, "email": "ada@example.com"}, headers=ADA)
    assert created.json()["name"] == "Caf\u00e9"
    emoji = "\U0001f469\u200d\U0001f4bb Ada"  # a zero-width joiner inside visible text is fine
    assert client.patch(f"/users/{created.json()['id']}", json={"name": emoji}, headers=ADA).status_code == 200


def test_two_authorization_headers_are_401(client: TestClient, ada: str) -> None:
    good = ADA["authorization"]
    headers = [("authorization", good), ("authorization", bearer(hs256("admin-1", "admin"))["authorization"])]
    response = client.get(f"/users/{ada}", headers=headers)
    assert (response.status_code, response.headers["content-type"]) == (401, PROBLEM)


def test_a_deleted_users_token_cannot_place_orders(client: TestClient, fake: FakeContainer, ada: str) -> None:
    fake.world.catalog.put("mug", "Mug", 100, "USD")
    fake.world.catalog.restock("mug", 5)
    assert client.delete(f"/users/{ada}", headers=ADA).status_code == 204
    response = client.post("/orders", json={"items": [{"productId": "mug", "quantity": 1}]}, headers=ADA)
    assert (response.status_code, response.headers["content-type"]) == (403, PROBLEM)
    assert "POST /users" in response.json()["detail"]
    assert fake.world.orders.orders == {}
    assert fake.world.queue.sent == []


@pytest.mark.parametrize(
    ("path", "allowed"), [("/users/ada", "DELETE, GET, HEAD, PATCH"), ("/users", "GET, HEAD, POST")]
)
def test_405_allow_lists_every_method_of_the_path(client: TestClient, path: str, allowed: str) -> None:
    response = client.put(path, json={}, headers=ADA)
    assert response.status_code == 405
    assert response.headers["allow"] == allowed


@pytest.mark.parametrize(
    "name", ["Ada", "A\x00B", "\u200b", "\u00ad", "x\u0085", "\ud7ff\ue000", "\U00101e66", "\U0001f469\u200d\U0001f4bb"]
)
def test_the_published_name_pattern_is_the_rule_both_ways(client: TestClient, name: str) -> None:
    schema = client.get("/openapi.json").json()["components"]["schemas"]["ProductPut"]["properties"]["name"]
    published = re.fullmatch(schema["pattern"], name) is not None
    reply = client.put("/products/mug", json={"name": name, "price": 100}, headers=as_admin())
    assert (reply.status_code == 200) is published, (name, reply.status_code)
