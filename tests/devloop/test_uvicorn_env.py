"""Under `make run`, uvicorn stands in for the HTTP API too: it answers CORS as the template's API would."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from app.api.main import create_app
from app.settings import Settings
from infra.local.supervisor import uvicorn_env
from infra.local.template import Stack, load_template


def test_the_local_api_answers_cors_for_the_origins_the_http_api_allows(monkeypatch: pytest.MonkeyPatch) -> None:
    stack = Stack(load_template(), "http://127.0.0.1:1")
    env = uvicorn_env(stack, 1)
    # In AWS the function gets no origins: the HTTP API's CorsConfiguration answers instead.
    assert (
        stack.resolve(stack.resources["ApiFunction"]["Properties"]["Environment"]["Variables"])["CORS_ALLOWED_ORIGINS"]
        == ""
    )
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    origin = stack.parameter("CorsAllowedOrigins")[0]
    client = TestClient(create_app(Settings()))
    preflight = {"origin": origin, "access-control-request-method": "POST"}
    answer = client.options("/users", headers=preflight)
    assert answer.status_code == 200
    assert answer.headers["access-control-allow-origin"] == origin
    refused = client.options("/users", headers={**preflight, "origin": "https://evil.example.com"})
    assert "access-control-allow-origin" not in refused.headers
