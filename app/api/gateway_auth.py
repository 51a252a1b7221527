"""The caller API Gateway's authorizer already verified, read from the event's `requestContext.authorizer`.

Trusted only when the settings say the function sits behind API Gateway (the template sets it, and the
function's resource policy lets only that API invoke it: see docs/decisions/0007-trust-the-edge-authorizer.md).
A client cannot write `requestContext`: API Gateway builds it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.types import Scope

from app.domain.auth import ADMIN, USER, Principal, Unauthenticated, principal_from_claims


def gateway_principal(scope: Scope, now: float, leeway_seconds: float) -> Principal | None:
    """The authorizer's principal of this request, or None when API Gateway ran no authorizer for it."""
    # `dict`, not `Mapping`: a Lambda event is parsed JSON, and an ABC check costs several times more.
    event = scope.get("aws.event")
    if not isinstance(event, dict):
        return None
    authorizer = (event.get("requestContext") or {}).get("authorizer")
    if not isinstance(authorizer, dict):
        return None
    context = authorizer.get("lambda")
    if isinstance(context, dict):
        return _from_lambda_context(context, now, leeway_seconds)
    jwt = authorizer.get("jwt")
    if isinstance(jwt, dict) and isinstance(jwt.get("claims"), dict):
        # The HTTP API's own JWT authorizer checked signature, issuer, audience and expiry.
        return principal_from_claims(_unflattened(jwt["claims"]), verified_claim_required=True)
    return None


def _unflattened(claims: Mapping[str, Any]) -> dict[str, Any]:
    """The claims with `cognito:groups` a list again: the HTTP API passes an array claim as "[a b]"."""
    groups = claims.get("cognito:groups")
    if isinstance(groups, str) and groups.startswith("[") and groups.endswith("]"):
        return {**claims, "cognito:groups": groups[1:-1].split()}
    return dict(claims)


def _from_lambda_context(context: Mapping[str, Any], now: float, leeway_seconds: float) -> Principal:
    """The principal workers/authorizer.py put in its context."""
    sub, expires = context.get("userId"), _number(context.get("exp"))
    if not isinstance(sub, str) or not sub or expires is None:
        raise Unauthenticated("the authorizer's context names no caller")
    # API Gateway caches an authorizer's answer per token (ReauthorizeEvery): the expiry is checked here.
    if now > expires + leeway_seconds:
        raise Unauthenticated("the token has expired")
    email = context.get("email") or None
    return Principal(
        sub=sub,
        email=email if isinstance(email, str) else None,
        role=ADMIN if context.get("role") == ADMIN else USER,
        # Context values are strings, numbers or booleans; a REST API turns them all into strings.
        email_verified=context.get("emailVerified") in (True, "true"),
    )


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 16:
        return float(value)
    return None
