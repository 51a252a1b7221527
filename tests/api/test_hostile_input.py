"""Hostile input over every operation of /openapi.json: arbitrary bytes and Unicode in the path, the query,
the headers (If-Match, Idempotency-Key, Authorization) and the body. No answer is ever a 5xx, and every
error is problem+json. The app runs on in-memory fakes, so no 503 (AWS unreachable) can happen here."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.tokens import as_admin, as_user

PROBLEM = "application/problem+json"
TEXT = st.one_of(
    st.text(max_size=40),
    st.sampled_from(
        ["", "0", "-1", "9" * 5000, "\u00b2", "\u0661", "%00", "../..", "' OR 1=1", "\x00", "\u202e", "null", "[]"]
    ),
)
RAW = st.binary(max_size=300)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)
HEADER = st.binary(max_size=60).map(lambda b: b.replace(b"\r", b"").replace(b"\n", b"")) | TEXT.map(
    lambda t: t.encode("utf-8", "surrogatepass").replace(b"\r", b"").replace(b"\n", b"")
)


def operations(app: FastAPI) -> list[tuple[str, str, list[str]]]:
    """(method, path template, query parameter names) of every documented operation."""
    found = []
    for path, item in app.openapi()["paths"].items():
        for method, operation in item.items():
            query = [p["name"] for p in operation.get("parameters", []) if p.get("in") == "query"]
            found.append((method.upper(), path, query))
    return found


@st.composite
def hostile_request(draw: st.DrawFn, ops: list[tuple[str, str, list[str]]]) -> dict[str, Any]:
    method, template, query_names = draw(st.sampled_from(ops))
    path = template
    for name in [p.split("}")[0] for p in template.split("{")[1:]]:
        path = path.replace("{" + name + "}", quote(draw(TEXT), safe=""), 1)
    query = {name: draw(TEXT) for name in query_names if draw(st.booleans())}
    headers: dict[str, bytes] = {}
    auth = draw(st.sampled_from(["user", "admin", "none", "garbage"]))
    if auth in ("user", "admin"):
        headers["authorization"] = (as_admin() if auth == "admin" else as_user("0"))["authorization"].encode()
    elif auth == "garbage":
        headers["authorization"] = draw(HEADER)
    for name in ("if-match", "idempotency-key", "content-type", "x-correlation-id"):
        if draw(st.booleans()):
            headers[name] = draw(HEADER)
    body = draw(st.one_of(st.none(), RAW, JSON.map(lambda v: json.dumps(v).encode())))
    return {"method": method, "url": path, "params": query, "headers": headers, "content": body}


@pytest.fixture
def ops(app: FastAPI) -> list[tuple[str, str, list[str]]]:
    return operations(app)


def test_every_operation_is_covered(ops: list[tuple[str, str, list[str]]]) -> None:
    assert len(ops) >= 15
    assert {m for m, _, _ in ops} >= {"GET", "POST", "PUT", "PATCH", "DELETE"}


@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_no_hostile_request_gets_a_5xx(
    client: TestClient, ops: list[tuple[str, str, list[str]]], data: st.DataObject
) -> None:
    request = data.draw(hostile_request(ops))
    response = client.request(**request)
    assert response.status_code < 500, (request, response.status_code, response.text[:300])
    if response.status_code >= 400:
        assert response.headers["content-type"] == PROBLEM, (request, response.headers)
