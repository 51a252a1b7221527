"""Behind API Gateway the API trusts the edge authorizer's context; elsewhere it verifies the token itself."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest

from app.api.main import create_app
from app.lambda_handler import mangum
from app.settings import Settings
from infra.local.payloads import LambdaContext, http_api_v2
from tests.api.conftest import FakeContainer
from tests.support.tokens import as_user, bearer, hs256

Invoke = Callable[[dict[str, Any]], dict[str, Any]]
FORGED = bearer(hs256("ada", secret="not-the-signing-secret-0123456789"))


def context(sub: str = "ada", **extra: Any) -> dict[str, Any]:
    """The simple-response context workers/authorizer.py returns for a valid token."""
    fields = {"userId": sub, "email": f"{sub}@example.com", "emailVerified": True, "role": "user"}
    return {**fields, "exp": int(time.time()) + 600, **extra}


def handler(fake: FakeContainer, trust: bool) -> Invoke:
    settings = Settings(cors_allowed_origins="", TRUST_GATEWAY_AUTHORIZER=trust)
    asgi = mangum(create_app(settings, fake.container))
    context: Any = LambdaContext("order-service-api-dev")
    return lambda event: asgi(event, context)


@pytest.fixture
def trusting(fake: FakeContainer) -> Invoke:
    return handler(fake, trust=True)


def create_ada(invoke: Invoke, headers: dict[str, str], **ctx: Any) -> dict[str, Any]:
    body = {"name": "Ada", "email": "ada@example.com"}
    return invoke(http_api_v2("POST", "/users", body=body, headers=headers, authorizer=context(**ctx)))


def test_the_authorizers_caller_is_used_without_verifying_the_token_again(trusting: Invoke) -> None:
    # The header's token would fail verification: only the authorizer's context can have let it through.
    reply = create_ada(trusting, FORGED)
    assert reply["statusCode"] == 201, reply
    assert json.loads(reply["body"])["id"] == "ada"


def test_an_expired_token_is_refused_even_while_the_authorizers_answer_is_cached(trusting: Invoke) -> None:
    reply = create_ada(trusting, FORGED, exp=int(time.time()) - 120)
    assert reply["statusCode"] == 401
    assert reply["headers"]["content-type"] == "application/problem+json"
    assert "expired" in json.loads(reply["body"])["detail"]


@pytest.mark.parametrize("broken", [{"userId": ""}, {"exp": "soon"}, {"exp": True}])
def test_a_context_without_a_caller_is_401(trusting: Invoke, broken: dict[str, Any]) -> None:
    assert create_ada(trusting, FORGED, **broken)["statusCode"] == 401


def test_the_role_and_verified_email_come_from_the_context(trusting: Invoke) -> None:
    # An unverified email may not be claimed: the context says whether the issuer vouched for it.
    assert create_ada(trusting, FORGED, emailVerified=False)["statusCode"] == 403
    listing = http_api_v2("GET", "/users", headers=FORGED, authorizer=context("boss", role="admin"))
    assert trusting(listing)["statusCode"] == 200
    assert trusting(http_api_v2("GET", "/users", headers=FORGED, authorizer=context("ada")))["statusCode"] == 403


def test_without_trust_the_same_event_is_verified_and_refused(fake: FakeContainer) -> None:
    assert create_ada(handler(fake, trust=False), FORGED)["statusCode"] == 401


def test_a_route_the_gateway_did_not_authorize_verifies_the_token(trusting: Invoke) -> None:
    event = http_api_v2("POST", "/users", body={"name": "Ada", "email": "ada@example.com"}, headers=FORGED)
    assert trusting(event)["statusCode"] == 401
    event["headers"].update(as_user("ada"))
    assert trusting(event)["statusCode"] == 201


def test_the_http_apis_jwt_authorizer_claims_are_trusted(trusting: Invoke) -> None:
    event = http_api_v2("GET", "/users/ada", headers=FORGED)
    create_ada(trusting, FORGED)
    event["requestContext"]["authorizer"] = {"jwt": {"claims": {"sub": "ada"}, "scopes": None}}
    assert trusting(event)["statusCode"] == 200
    event["requestContext"]["authorizer"] = {"jwt": {"claims": {"sub": "eve"}, "scopes": None}}
    assert trusting(event)["statusCode"] == 403


def test_cognito_groups_flattened_by_the_http_api_still_make_an_admin(trusting: Invoke) -> None:
    # The HTTP API's JWT authorizer passes array claims as one string: ["admin"] arrives as "[admin]".
    event = http_api_v2("GET", "/users", headers=FORGED)
    event["requestContext"]["authorizer"] = {"jwt": {"claims": {"sub": "boss", "cognito:groups": "[admin ops]"}}}
    assert trusting(event)["statusCode"] == 200
    event["requestContext"]["authorizer"] = {"jwt": {"claims": {"sub": "ada", "cognito:groups": "[ops]"}}}
    assert trusting(event)["statusCode"] == 403
