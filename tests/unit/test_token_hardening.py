"""python-jose is loose: every claim value, any encoding trick and odd headers give 401, never an error."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import workers.authorizer
from app.domain.auth import Unauthenticated
from app.services.jwks import JwksCache
from app.services.tokens import JwksKeys, TokenRules, TokenVerifier
from infra.local.payloads import http_api_request_authorizer
from tests.support.tokens import AUDIENCE, ISSUER, SECRET, RsaKey, claims, hs256, verifier
from tests.unit.test_authorizer import secret_mode
from tests.unit.test_tokens import Clock, StaticJwks, b64

__all__ = ["secret_mode"]  # the authorizer reads JWT_SECRET: the same autouse fixture as its own tests

REGISTERED = ("exp", "iat", "nbf", "iss", "aud", "sub", "jti", "email", "email_verified", "role", "cognito:groups")
JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**400), max_value=10**400)
    | st.floats(allow_nan=False)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=6,
)


def hs_sign(payload: dict[str, Any] | str) -> str:
    """An HS256 token over any payload, signed with the real secret (json.dumps writes 1e400 as Infinity)."""
    body = payload if isinstance(payload, str) else json.dumps(payload)
    signing_input = f"{b64(json.dumps({'alg': 'HS256', 'typ': 'JWT'}).encode())}.{b64(body.encode())}"
    signature = hmac.new(SECRET.encode(), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(signature)}"


def verdict(token: str) -> str:
    try:
        verifier().verify(token)
    except Unauthenticated:
        return "401"
    return "200"


@pytest.mark.parametrize("claim", ["exp", "iat", "nbf"])
@pytest.mark.parametrize("value", ["1e400", "-1e400", str(10**400), "1e20", "true", '"soon"', "null", "NaN"])
def test_absurd_times_are_401_from_the_api_and_the_authorizer(claim: str, value: str) -> None:
    valid = claims()
    others = ", ".join(f'"{k}": {json.dumps(v)}' for k, v in valid.items() if k != claim)
    token = hs_sign(f'{{{others}, "{claim}": {value}}}')  # raw JSON: 1e400 and NaN as a client would send them
    assert verdict(token) == "401"
    rest = {"type": "TOKEN", "authorizationToken": f"Bearer {token}", "methodArn": "arn:aws:execute-api:r:1:a/s/GET/x"}
    with pytest.raises(Exception, match=r"^Unauthorized$"):
        workers.authorizer.handler(rest, None)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(claim=st.sampled_from(REGISTERED), value=JSON)
def test_any_json_value_in_any_registered_claim_is_200_or_401(claim: str, value: Any) -> None:
    token = hs_sign({**claims(), claim: value})
    api = verdict(token)
    assert api in ("200", "401")
    reply = workers.authorizer.handler(http_api_request_authorizer({"authorization": f"Bearer {token}"}), None)
    assert reply["isAuthorized"] is (api == "200")  # the edge and the app judge a token the same way


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t + "==",
        lambda t: t + "!!",
        lambda t: t.replace("-", "+").replace("_", "/") if ("-" in t or "_" in t) else t + "+",
        lambda t: t.split(".")[0] + "=." + ".".join(t.split(".")[1:]),
        lambda t: t[:-1] + {"A": "B", "Q": "R", "g": "h", "w": "x"}.get(t[-1], "B"),
    ],
    ids=["padding", "junk", "base64-not-url", "padded-header", "stray-bits"],
)
def test_non_canonical_encodings_are_401(mangle: Any) -> None:
    good = hs256()
    assert verdict(good) == "200"
    assert verdict(mangle(good)) == "401"


def test_two_authorization_headers_are_refused_by_the_rest_authorizer() -> None:
    token = hs256()
    event = {
        "type": "REQUEST",
        "methodArn": "arn:aws:execute-api:us-east-1:1:api/dev/GET/users",
        "headers": {"Authorization": f"Bearer {token}"},
        "multiValueHeaders": {"Authorization": [f"Bearer {token}", "Bearer other"]},
    }
    with pytest.raises(Exception, match=r"^Unauthorized$"):
        workers.authorizer.handler(event, None)


def test_a_key_removed_from_the_jwks_stops_verifying_after_the_refetch() -> None:
    old, new = RsaKey("old-key"), RsaKey("new-key")
    source, clock = StaticJwks(old, new), Clock()
    checker = TokenVerifier(
        JwksKeys(JwksCache(source, 60, clock, max_age_seconds=300)),
        TokenRules(ISSUER, AUDIENCE, 30),
        clock=time.time,
        remember_seconds=0,
    )
    token = old.sign(claims())
    assert checker.verify(token).sub == "u1"
    source.keys = [new]  # the issuer rotates the old key out
    clock.now += 299
    assert checker.verify(token).sub == "u1"  # the cached key set is still fresh
    clock.now += 2
    with pytest.raises(Unauthenticated, match="unknown key"):
        checker.verify(token)
    assert checker.verify(new.sign(claims())).sub == "u1"
