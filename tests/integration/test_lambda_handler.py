"""The Lambda entrypoint with real API Gateway HTTP API (2.0) and REST (1.0) events."""

from __future__ import annotations

import base64
import importlib
import json
from types import ModuleType
from typing import Any

import pytest

from infra.local.payloads import LambdaContext, http_api_v2, rest_api_v1
from infra.local.template import Stack
from tests.support.tokens import Signer


@pytest.fixture
def handler_module(stack: Stack) -> ModuleType:
    import app.lambda_handler

    return importlib.reload(app.lambda_handler)


def invoke(module: ModuleType, event: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = module.handler(event, LambdaContext("order-service-api-dev"))
    return result


def body_of(result: dict[str, Any]) -> Any:
    raw = result["body"]
    if result.get("isBase64Encoded"):
        raw = base64.b64decode(raw).decode()
    return json.loads(raw)


@pytest.mark.parametrize("stage", ["$default", "dev"])
def test_http_api_v2_create_and_get(handler_module: ModuleType, stage: str, auth: Signer) -> None:
    ada = auth.user("ada")
    created = invoke(
        handler_module,
        http_api_v2("POST", "/users", body={"name": "Ada", "email": "ada@example.com"}, stage=stage, headers=ada),
    )
    assert created["statusCode"] == 201
    user = body_of(created)
    assert created["headers"]["location"] == f"/users/{user['id']}"
    event = http_api_v2("GET", f"/users/{user['id']}", stage=stage, headers=ada)
    got = invoke(handler_module, event)
    assert got["statusCode"] == 200
    assert body_of(got) == user
    # The correlation id is API Gateway's request id.
    assert got["headers"]["x-correlation-id"] == event["requestContext"]["requestId"]


def test_http_api_v2_base64_body_and_query(handler_module: ModuleType, auth: Signer) -> None:
    bo = auth.user("bo")
    event = http_api_v2("POST", "/users", body={"name": "Bo", "email": "bo@example.com"}, base64_body=True, headers=bo)
    assert invoke(handler_module, event)["statusCode"] == 201
    found = invoke(handler_module, http_api_v2("GET", "/users", query={"email": "bo@example.com"}, headers=bo))
    assert body_of(found)["items"][0]["name"] == "Bo"


def test_rest_v1_with_stage(handler_module: ModuleType, auth: Signer) -> None:
    cy = auth.user("cy")
    created = invoke(
        handler_module, rest_api_v1("POST", "/users", body={"name": "Cy", "email": "cy@example.com"}, headers=cy)
    )
    assert created["statusCode"] == 201
    user = body_of(created)
    got = invoke(handler_module, rest_api_v1("GET", f"/users/{user['id']}", headers=cy))
    assert got["statusCode"] == 200
    assert body_of(got)["email"] == "cy@example.com"
    bad = invoke(handler_module, rest_api_v1("POST", "/users", body="{nope", headers=cy))
    assert bad["statusCode"] == 400
    assert (
        bad["multiValueHeaders"]
        .get("content-type", [bad["headers"].get("content-type")])[0]
        .startswith("application/problem+json")
    )


@pytest.mark.parametrize(
    ("event", "prefix"),
    [
        (http_api_v2("GET", "/docs", stage="dev"), "/dev"),
        (rest_api_v1("GET", "/docs", stage="prod"), "/prod"),
        (http_api_v2("GET", "/docs"), ""),
    ],
)
def test_docs_link_to_openapi_under_the_stage(handler_module: ModuleType, event: dict[str, Any], prefix: str) -> None:
    result = invoke(handler_module, event)
    assert result["statusCode"] == 200
    html = result["body"]
    assert f"'{prefix}/openapi.json'" in html or f'"{prefix}/openapi.json"' in html
    assert f"{prefix}/static-offline-docs/swagger-ui-bundle.js" in html


def test_openapi_under_stage(handler_module: ModuleType) -> None:
    result = invoke(handler_module, http_api_v2("GET", "/openapi.json", stage="dev"))
    assert result["statusCode"] == 200
    assert "/users" in body_of(result)["paths"]


@pytest.mark.parametrize("make", [http_api_v2, rest_api_v1])
def test_a_problem_comes_back_as_text_not_base64(handler_module: ModuleType, auth: Signer, make: Any) -> None:
    result = invoke(handler_module, make("GET", "/users/nobody", headers=auth.admin()))
    assert (result["statusCode"], result["isBase64Encoded"]) == (404, False)
    assert json.loads(result["body"])["status"] == 404


def test_a_chunked_body_without_content_length_is_judged_by_its_size(handler_module: ModuleType, auth: Signer) -> None:
    # API Gateway passes no Content-Length through Mangum: the body's own size is what is limited.
    big = {"name": "x" * 1_100_000, "email": "dee@example.com"}
    result = invoke(handler_module, http_api_v2("POST", "/users", body=big, headers=auth.user("dee")))
    assert (result["statusCode"], result["isBase64Encoded"]) == (413, False)


def test_a_non_json_body_is_415_through_the_lambda_handler(handler_module: ModuleType, auth: Signer) -> None:
    # Mangum passes no Content-Length: the body is judged once read, as over uvicorn.
    event = http_api_v2("POST", "/users", body="name=Eve", headers={**auth.user("eve"), "content-type": "text/plain"})
    result = invoke(handler_module, event)
    assert (result["statusCode"], json.loads(result["body"])["status"]) == (415, 415)
