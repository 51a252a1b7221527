"""Lambda authorizer: an IAM policy for REST API authorizers, a simple response for HTTP API ones.

Imports only settings, the token verifier and its adapters: no FastAPI, no DynamoDB (cold start).
"""

from __future__ import annotations

from app import coldstart  # isort: skip - first: the GC pauses for the init (app/coldstart.py)
from contextlib import suppress
from functools import lru_cache
from typing import Any

from app.bootstrap.auth import token_verifier
from app.bootstrap.snapstart import after_restore, eager_init, refresh_after_restore
from app.domain.auth import Principal, Unauthenticated
from app.observability import entrypoint
from app.services.tokens import TokenVerifier
from app.settings import get_settings


@lru_cache
def verifier() -> TokenVerifier:
    """The process-wide verifier; its secret and JWKS caches survive warm invocations."""
    return token_verifier(get_settings())


def prime() -> None:
    """At an eager init: build the verifier, read its key and run one (refused) verification."""
    # Refused, as it must be: what counts is that the key was read and the decoder loaded.
    with suppress(Unauthenticated):
        verifier().verify("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJwcmltZSJ9.c2lnbmF0dXJl")


if eager_init():
    prime()
    after_restore(refresh_after_restore)  # prime()'s token is refused: no verified token is remembered
    coldstart.resume()  # the init ends here, before the snapshot: no first reply to wait for


@entrypoint
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Verify the bearer token of an API Gateway authorizer event."""
    simple = event.get("version") == "2.0"  # HTTP API, payload 2.0, simple responses
    try:
        principal, expires = verifier().verify_with_expiry(_bearer(_authorization(event)))
    except Unauthenticated:
        if simple:
            return {"isAuthorized": False, "context": {}}
        raise Exception("Unauthorized") from None  # the exact message API Gateway maps to 401
    if simple:
        return {"isAuthorized": True, "context": _context(principal, expires)}
    return _policy(principal, expires, event["methodArn"])


def _authorization(event: dict[str, Any]) -> str:
    if event.get("type") == "TOKEN":
        return str(event.get("authorizationToken") or "")
    multi = [v for k, v in (event.get("multiValueHeaders") or {}).items() if str(k).lower() == "authorization"]
    if multi and isinstance(multi[0], list) and len(multi[0]) > 1:
        raise Unauthenticated("send exactly one Authorization header")
    headers = [v for k, v in (event.get("headers") or {}).items() if str(k).lower() == "authorization"]
    if len(headers) > 1:
        raise Unauthenticated("send exactly one Authorization header")
    return str(headers[0] or "") if headers else ""


def _bearer(value: str) -> str:
    scheme, _, token = value.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("a bearer token is required")
    return token.strip()


def _context(principal: Principal, expires: float) -> dict[str, str | int | bool]:
    """What the API trusts (app/api/gateway_auth.py); values must be strings, numbers or booleans.

    `exp` travels along because API Gateway caches this answer for ReauthorizeEvery: the API checks it.
    """
    return {
        "userId": principal.sub,
        "email": principal.email or "",
        "emailVerified": principal.email_verified,
        "role": principal.role,
        "exp": int(expires),
    }


def _policy(principal: Principal, expires: float, method_arn: str) -> dict[str, Any]:
    # arn:aws:execute-api:region:account:api/stage/METHOD/path -> api/stage/*: the cached policy
    # must allow every route this token may call; per-resource rules are the application's.
    api_stage = "/".join(method_arn.split("/")[:2])
    statement = {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": f"{api_stage}/*"}
    return {
        "principalId": principal.sub,
        "policyDocument": {"Version": "2012-10-17", "Statement": [statement]},
        "context": _context(principal, expires),
    }
