"""The OpenAPI document states the rules the server enforces: a client built from it is not surprised."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.support.tokens import as_admin, as_user

ADA = as_user("ada")


@pytest.fixture
def spec(app: FastAPI) -> dict[str, Any]:
    return app.openapi()


def parameter(spec: dict[str, Any], path: str, method: str, name: str) -> dict[str, Any]:
    found: dict[str, Any] = next(p for p in spec["paths"][path][method]["parameters"] if p["name"] == name)
    return found


@pytest.mark.parametrize("value", ['"1"', 'W/"1"', "1", "*", '"²"', "9" * 40, "abc", '"1'])
def test_the_documented_if_match_pattern_is_the_one_enforced(
    client: TestClient, spec: dict[str, Any], value: str
) -> None:
    pattern = parameter(spec, "/users/{user_id}", "patch", "if-match")["schema"]["pattern"]
    client.post("/users", json={"name": "Ada", "email": "ada@example.com"}, headers=ADA)
    response = client.patch("/users/ada", json={"name": "B"}, headers={**ADA, "if-match": value.encode()})
    assert (response.status_code != 412) is bool(re.fullmatch(pattern, value)), (value, response.status_code)


def test_the_documented_import_size_maximum_is_enforced(client: TestClient, spec: dict[str, Any]) -> None:
    maximum = spec["components"]["schemas"]["ImportCreate"]["properties"]["contentLength"]["maximum"]
    admin = as_admin()
    assert client.post("/products/imports", json={"contentLength": maximum}, headers=admin).status_code == 201
    assert client.post("/products/imports", json={"contentLength": maximum + 1}, headers=admin).status_code == 422


@pytest.mark.parametrize(
    ("path", "method", "status", "words"),
    [
        ("/orders", "post", "422", "Unknown products"),
        ("/orders", "post", "403", "no profile"),
        ("/analytics/daily", "get", "422", "`from` after `to`"),
        ("/users/{user_id}", "patch", "412", "If-Match"),
        ("/users", "post", "403", "vouch"),
    ],
)
def test_error_replies_are_declared_as_problems(
    spec: dict[str, Any], path: str, method: str, status: str, words: str
) -> None:
    response = spec["paths"][path][method]["responses"][status]
    assert words in response["description"]
    assert response["content"] == {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}


def test_every_error_reply_is_problem_json_but_the_health_report(spec: dict[str, Any]) -> None:
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            for status, response in operation["responses"].items():
                if (path, status) == ("/health", "503"):
                    # GET /health answers its report, as its 200 does: declared as what is sent.
                    assert response["content"]["application/json"]["schema"] == {
                        "$ref": "#/components/schemas/HealthOut"
                    }
                elif status[0] in "45" or status == "default":
                    assert list(response["content"]) == ["application/problem+json"], (path, method, status)


@pytest.mark.parametrize(
    ("path", "method", "statuses"),
    [
        ("/users", "post", {"201", "400", "401", "403", "409", "413", "415", "422", "503"}),
        ("/users/{user_id}", "get", {"200", "401", "403", "404", "503"}),
        ("/orders/{order_id}/cancel", "post", {"200", "401", "403", "404", "409", "503"}),
        ("/health", "get", {"200", "503"}),
    ],
)
def test_each_status_an_operation_answers_is_declared(
    spec: dict[str, Any], path: str, method: str, statuses: set[str]
) -> None:
    assert statuses <= set(spec["paths"][path][method]["responses"])


@pytest.mark.parametrize(
    ("path", "method", "status", "headers"),
    [
        ("/users", "post", "201", {"Location", "ETag", "X-Correlation-Id"}),
        ("/users/{user_id}", "get", "200", {"ETag", "Cache-Control"}),
        ("/users/{user_id}", "patch", "200", {"ETag"}),
        ("/orders", "post", "202", {"Location", "Idempotent-Replayed"}),
        ("/orders", "post", "401", {"WWW-Authenticate"}),
        ("/orders", "post", "503", {"Retry-After"}),
    ],
)
def test_each_header_a_reply_sends_is_declared(
    spec: dict[str, Any], path: str, method: str, status: str, headers: set[str]
) -> None:
    assert headers <= set(spec["paths"][path][method]["responses"][status]["headers"])


def test_the_patch_schema_says_what_the_api_enforces(client: TestClient, spec: dict[str, Any]) -> None:
    patch = spec["components"]["schemas"]["UserPatch"]
    assert patch["minProperties"] == 1
    assert all("anyOf" not in p and p.get("type") != "null" for p in patch["properties"].values())
    for body in ({}, {"name": None}, {"name": "Ada", "email": None}):
        assert client.patch("/users/ada", json=body, headers=as_user("ada")).status_code == 422


def test_statuses_in_bodies_are_enums(spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]
    for model in ("OrderOut", "ImportOut"):
        status = schemas[model]["properties"]["status"]
        target = schemas[status["$ref"].rsplit("/", 1)[1]] if "$ref" in status else status
        assert "PENDING" in target["enum"] or "RUNNING" in target["enum"]


def test_the_documented_security_is_the_one_enforced(client: TestClient, spec: dict[str, Any]) -> None:
    # Every operation that declares the bearer scheme answers 401 without a token; the others do not.
    for path, item in spec["paths"].items():
        url = re.sub(r"\{[^}]+\}", "x1", path)
        for method, operation in item.items():
            status = client.request(method, url, json={}).status_code
            secured = operation.get("security") == [{"HTTPBearer": []}]
            assert (status == 401) == secured, (method, path, status)
    assert spec["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
