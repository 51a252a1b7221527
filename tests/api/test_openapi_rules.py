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


def test_every_error_reply_is_problem_json(spec: dict[str, Any]) -> None:
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            for status, response in operation["responses"].items():
                if status[0] in "45" or status == "default":
                    assert list(response["content"]) == ["application/problem+json"], (path, method, status)


def test_the_documented_security_is_the_one_enforced(client: TestClient, spec: dict[str, Any]) -> None:
    # Every operation that declares the bearer scheme answers 401 without a token; the others do not.
    for path, item in spec["paths"].items():
        url = re.sub(r"\{[^}]+\}", "x1", path)
        for method, operation in item.items():
            status = client.request(method, url, json={}).status_code
            secured = operation.get("security") == [{"HTTPBearer": []}]
            assert (status == 401) == secured, (method, path, status)
    assert spec["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
