"""The Lambda authorizer with real REST TOKEN and HTTP API REQUEST authorizer events."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from jose import jwt

from app.settings import get_settings
from infra.local.payloads import LambdaContext, http_api_request_authorizer, rest_token_authorizer
from tests.support.tokens import SECRET, hs256
from workers import authorizer

CONTEXT = LambdaContext("order-service-authorizer-dev")


@pytest.fixture(autouse=True)
def secret_mode(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("AUTH_MODE", "secret")
    monkeypatch.setenv("JWT_SECRET", SECRET)
    monkeypatch.delenv("JWT_SECRET_ID", raising=False)
    monkeypatch.delenv("JWT_ISSUER", raising=False)
    monkeypatch.delenv("JWT_AUDIENCE", raising=False)
    get_settings.cache_clear()
    authorizer.verifier.cache_clear()
    yield
    get_settings.cache_clear()
    authorizer.verifier.cache_clear()


def expiry(token: str) -> int:
    """The token's exp claim, which the context carries for the API's own expiry check."""
    return int(jwt.get_unverified_claims(token)["exp"])


def test_rest_token_authorizer_returns_an_iam_policy() -> None:
    token = hs256("u1", "admin", "u1@example.com")
    result = authorizer.handler(rest_token_authorizer(f"Bearer {token}", "DELETE", "/users/u2"), CONTEXT)
    assert result == {
        "principalId": "u1",
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Action": "execute-api:Invoke",
                    "Effect": "Allow",
                    "Resource": "arn:aws:execute-api:us-east-1:123456789012:abc123/prod/*",
                }
            ],
        },
        "context": {
            "userId": "u1",
            "email": "u1@example.com",
            "emailVerified": True,
            "role": "admin",
            "exp": expiry(token),
        },
    }


@pytest.mark.parametrize(
    "authorization",
    [
        "",
        "Bearer ",
        f"Basic {hs256()}",
        "Bearer not.a.jwt",
        f"Bearer {hs256(exp=1)}",
        f"Bearer {hs256(secret='x' * 32)}",
    ],
)
def test_rest_token_authorizer_bad_token_raises_unauthorized(authorization: str) -> None:
    with pytest.raises(Exception, match=r"^Unauthorized$"):
        authorizer.handler(rest_token_authorizer(authorization), CONTEXT)


def test_rest_request_authorizer_reads_the_header() -> None:
    event = {**rest_token_authorizer(""), "type": "REQUEST", "headers": {"Authorization": f"Bearer {hs256('u7')}"}}
    del event["authorizationToken"]
    assert authorizer.handler(event, CONTEXT)["principalId"] == "u7"


def test_http_api_request_authorizer_simple_response() -> None:
    token = hs256("u1", email="u1@example.com", email_verified=False)
    event = http_api_request_authorizer({"Authorization": f"Bearer {token}"})
    assert authorizer.handler(event, CONTEXT) == {
        "isAuthorized": True,
        "context": {
            "userId": "u1",
            "email": "u1@example.com",
            "emailVerified": False,
            "role": "user",
            "exp": expiry(token),
        },
    }


@pytest.mark.parametrize("headers", [{}, {"authorization": "Bearer"}, {"authorization": f"Bearer {hs256(aud='x')}"}])
def test_http_api_request_authorizer_denies_bad_tokens(headers: dict[str, str]) -> None:
    assert authorizer.handler(http_api_request_authorizer(headers), CONTEXT) == {"isAuthorized": False, "context": {}}


def test_unreadable_secret_is_an_error_not_a_deny(monkeypatch: pytest.MonkeyPatch) -> None:
    from app.domain.errors import ServiceUnavailable

    monkeypatch.delenv("JWT_SECRET")
    get_settings.cache_clear()
    authorizer.verifier.cache_clear()
    # Not "Unauthorized": an outage must not look like a bad token (API Gateway answers 500 and logs it).
    with pytest.raises(ServiceUnavailable):
        authorizer.handler(rest_token_authorizer(f"Bearer {hs256()}"), CONTEXT)
