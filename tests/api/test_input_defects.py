"""Round 3 of hostile input at the API: a newline that ends a token's `sub`, a Host header in a redirect,
HEAD, cache headers, 404 before 415, and look-alike emails."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import FakeContainer
from tests.support.tokens import as_admin, as_user, bearer, hs256

PROBLEM = "application/problem+json"


def test_a_sub_ending_in_a_newline_is_no_user_id(client: TestClient, fake: FakeContainer) -> None:
    caller = bearer(hs256("someone\n", "user", "someone@example.com"))
    reply = client.post("/users", json={"name": "Someone", "email": "someone@example.com"}, headers=caller)
    assert reply.status_code == 422
    assert reply.headers["content-type"] == PROBLEM
    assert reply.json()["errors"] == [{"field": "id", "message": "give an id"}]
    assert fake.repo.get_by_email("someone@example.com") is None  # nothing stored, the email not claimed


def test_a_trailing_slash_is_404_with_no_url_from_the_host_header(client: TestClient) -> None:
    reply = client.get("/products/", headers={"host": "evil.example"}, follow_redirects=False)
    assert reply.status_code == 404
    assert "location" not in reply.headers
    assert "evil.example" not in reply.text


@pytest.mark.parametrize("path", ["/health", "/products", "/openapi.json"])
def test_head_is_served_wherever_get_is(client: TestClient, path: str) -> None:
    got = client.get(path, headers=as_user("ada"))
    head = client.head(path, headers=as_user("ada"))
    assert head.status_code == got.status_code == 200
    assert head.content == b""
    assert head.headers["content-type"] == got.headers["content-type"]


def test_head_on_a_path_without_get_is_405_and_allow_lists_head_with_get(client: TestClient) -> None:
    assert client.head("/orders", headers=as_user("ada")).status_code == 405
    allow = client.delete("/users", headers=as_admin()).headers["allow"]
    assert allow.split(", ") == ["GET", "HEAD", "POST"]


def test_every_reply_says_nosniff_and_authenticated_ones_no_store(client: TestClient) -> None:
    public = client.get("/health")
    assert public.headers["x-content-type-options"] == "nosniff"
    assert "cache-control" not in public.headers
    for reply in (client.get("/users/ada", headers=as_user("ada")), client.get("/users", headers=as_admin())):
        assert reply.headers["x-content-type-options"] == "nosniff"
        assert reply.headers["cache-control"] == "no-store"
    assert client.get("/nowhere").headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize("path", ["/nowhere", "/users/ada/nothing", "/orders/x/y/z"])
def test_an_unknown_path_is_404_before_415(client: TestClient, path: str) -> None:
    reply = client.post(path, content=b"a=1", headers={"content-type": "text/plain", **as_admin()})
    assert reply.status_code == 404
    assert reply.headers["content-type"] == PROBLEM


def test_a_known_path_with_a_wrong_body_type_is_still_415(client: TestClient) -> None:
    reply = client.post("/users", content=b"a=1", headers={"content-type": "text/plain", **as_admin()})
    assert reply.status_code == 415


@pytest.mark.parametrize(
    "look_alike",
    [
        "\uff43ase@example.com",  # a fullwidth c
        "\u0441ase@example.com",  # a Cyrillic es
        "case@\uff45xample.com",  # a fullwidth e in the domain
        "case@b\u00fccher.de",  # an international domain, accepted only in its xn-- form
    ],
)
def test_a_look_alike_email_is_no_second_account(client: TestClient, fake: FakeContainer, look_alike: str) -> None:
    assert client.post("/users", json={"id": "c1", "name": "Case", "email": "case@example.com"}, headers=as_admin())
    reply = client.post("/users", json={"id": "c2", "name": "Case", "email": look_alike}, headers=as_admin())
    assert reply.status_code == 422
    assert reply.headers["content-type"] == PROBLEM
    assert reply.json()["errors"][0]["field"] == "email"
    assert fake.repo.get("c2") is None


def test_an_email_is_claimed_and_compared_in_one_form(client: TestClient) -> None:
    caller = bearer(hs256("case", "user", "Case@Example.COM"))
    created = client.post("/users", json={"name": "Case", "email": "CASE@example.com"}, headers=caller)
    assert created.status_code == 201
    assert created.json()["email"] == "case@example.com"
    found = client.get("/users", params={"email": "case@EXAMPLE.com"}, headers=caller)
    assert found.status_code == 200
    assert [u["id"] for u in found.json()["items"]] == ["case"]
    taken = client.post("/users", json={"id": "x", "name": "X", "email": "Case@example.com"}, headers=as_admin())
    assert taken.status_code == 409


def test_the_schema_states_the_email_rule_the_api_enforces(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()["components"]["schemas"]["UserCreate"]["properties"]["email"]
    assert schema["pattern"].startswith("^")
    assert schema["maxLength"] == 254
