"""Token verification: the bad-token matrix in both modes, Cognito token kinds, roles, and the JWKS cache."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from typing import Any

import pytest

from app.adapters.secrets import StaticSecret
from app.domain.auth import ADMIN, USER, Unauthenticated
from app.domain.errors import ServiceUnavailable
from app.services.jwks import JwksCache
from app.services.tokens import JwksKeys, SecretKeys, TokenRules, TokenVerifier
from tests.support.tokens import AUDIENCE, ISSUER, SECRET, RsaKey, claims, hs256

KEY = RsaKey("key-1")


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def raw_token(header: dict[str, Any], payload: dict[str, Any], sign: Callable[[bytes], bytes]) -> str:
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(payload).encode())}"
    return f"{signing_input}.{b64(sign(signing_input.encode()))}"


class StaticJwks:
    """A JWKS source that counts fetches and can be switched off or given new keys."""

    def __init__(self, *keys: RsaKey) -> None:
        self.keys = list(keys)
        self.fetches = 0
        self.up = True

    def fetch(self) -> dict[str, Any]:
        self.fetches += 1
        if not self.up:
            raise ServiceUnavailable("down")
        return {"keys": [k.jwk() for k in self.keys]}


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def rs_verifier(source: StaticJwks | None = None, clock: Clock | None = None) -> TokenVerifier:
    cache = JwksCache(source or StaticJwks(KEY), 60, clock or Clock())
    return TokenVerifier(JwksKeys(cache), TokenRules(ISSUER, AUDIENCE, 30))


def hs_verifier() -> TokenVerifier:
    return TokenVerifier(SecretKeys(StaticSecret(SECRET)), TokenRules(ISSUER, AUDIENCE, 30))


def tamper(token: str) -> str:
    header, payload, signature = token.split(".")
    body = json.loads(base64.urlsafe_b64decode(payload + "=="))
    body["role"] = "admin"
    return f"{header}.{b64(json.dumps(body).encode())}.{signature}"


def hs256_with_public_key() -> str:
    # Algorithm confusion: an attacker signs HS256 with the issuer's *public* key as the HMAC secret.
    key = KEY.public_pem.encode()
    return raw_token(
        {"alg": "HS256", "typ": "JWT", "kid": KEY.kid}, claims(), lambda m: hmac.new(key, m, hashlib.sha256).digest()
    )


def alg_none() -> str:
    return raw_token({"alg": "none", "typ": "JWT"}, claims(role="admin"), lambda m: b"")


def now() -> int:
    # Read at call time: the suite may run long after this module was imported.
    return int(time.time())


HS_MATRIX: dict[str, Callable[[], str]] = {
    "alg none": alg_none,
    "expired": lambda: hs256(exp=now() - 120, iat=now() - 3600, nbf=now() - 3600),
    "not yet valid": lambda: hs256(nbf=now() + 600),
    "issued in the future": lambda: hs256(iat=now() + 600),
    "wrong issuer": lambda: hs256(iss="https://evil.example"),
    "wrong audience": lambda: hs256(aud="another-app"),
    "no audience": lambda: hs256(aud=None),
    "no expiry": lambda: hs256(exp=None),
    "no subject": lambda: hs256(sub=None),
    "wrong secret": lambda: hs256(secret="another-secret-0123456789abcdef"),
    "tampered payload": lambda: tamper(hs256()),
    "RS256 in secret mode": lambda: KEY.sign(claims()),
    "not three parts": lambda: "abc.def",
    "four parts": lambda: hs256() + ".x",
    "header not JSON": lambda: f"{b64(b'not json')}.{b64(b'{}')}.{b64(b'sig')}",
    "header not an object": lambda: f"{b64(b'[1]')}.{b64(b'{}')}.{b64(b'sig')}",
    "payload not JSON": lambda: raw_token({"alg": "HS256"}, {}, lambda m: b"")[:-1] + "!",
    "over 8 KB": lambda: hs256(pad="x" * 9000),
    "empty": lambda: "",
    "garbage": lambda: "\x00\xff..",
    "unknown token_use": lambda: hs256(token_use="refresh"),
}


@pytest.mark.parametrize("make", HS_MATRIX.values(), ids=HS_MATRIX.keys())
def test_secret_mode_rejects_bad_tokens(make: Callable[[], str]) -> None:
    with pytest.raises(Unauthenticated):
        hs_verifier().verify(make())


RS_MATRIX: dict[str, Callable[[], str]] = {
    "alg none": alg_none,
    "HS256 signed with the RSA public key": hs256_with_public_key,
    "HS256 with the shared secret": lambda: hs256(),
    "expired": lambda: KEY.sign(claims(exp=now() - 120, iat=now() - 3600, nbf=now() - 3600)),
    "not yet valid": lambda: KEY.sign(claims(nbf=now() + 600)),
    "wrong issuer": lambda: KEY.sign(claims(iss="https://evil.example")),
    "wrong audience": lambda: KEY.sign(claims(aud="another-app")),
    "tampered payload": lambda: tamper(KEY.sign(claims())),
    "unknown kid": lambda: RsaKey("other-key").sign(claims()),
    "kid of a known key, signed by another": lambda: RsaKey("other-key").sign(claims(), kid=KEY.kid),
    "missing kid": lambda: KEY.sign(claims(), kid=None),
    "not three parts": lambda: "a.b",
    "header not JSON": lambda: f"{b64(b'{nope')}.{b64(b'{}')}.{b64(b'sig')}",
    "over 8 KB": lambda: KEY.sign(claims(pad="x" * 9000)),
    "access token for another client": lambda: KEY.sign(claims(aud=None, token_use="access", client_id="other")),
}


@pytest.mark.parametrize("make", RS_MATRIX.values(), ids=RS_MATRIX.keys())
def test_jwks_mode_rejects_bad_tokens(make: Callable[[], str]) -> None:
    with pytest.raises(Unauthenticated):
        rs_verifier().verify(make())


def test_valid_hs256_gives_the_principal() -> None:
    principal = hs_verifier().verify(hs256("u1", "admin", "u1@example.com"))
    assert (principal.sub, principal.email, principal.role) == ("u1", "u1@example.com", ADMIN)


def test_leeway_accepts_small_clock_skew() -> None:
    assert hs_verifier().verify(hs256(exp=now() - 5, nbf=now() + 5, iat=now() + 5)).sub == "u1"


def test_cognito_id_and_access_tokens_are_both_accepted() -> None:
    verifier = rs_verifier()
    id_token = KEY.sign({**claims(role=None, token_use="id"), "cognito:groups": ["admin"]})
    access = KEY.sign({**claims(role=None, aud=None, token_use="access", client_id=AUDIENCE), "cognito:groups": []})
    assert verifier.verify(id_token).role == ADMIN
    assert verifier.verify(access).role == USER
    listed_aud = KEY.sign(claims(aud=["x", AUDIENCE]))
    assert verifier.verify(listed_aud).sub == "u1"


def test_role_claim_wins_and_unknown_roles_are_users() -> None:
    verifier = rs_verifier()
    assert verifier.verify(KEY.sign({**claims(role="user"), "cognito:groups": ["admin"]})).role == USER
    assert verifier.verify(KEY.sign(claims(role="root"))).role == USER
    assert verifier.verify(KEY.sign({**claims(role=None), "cognito:groups": "admin"})).role == USER


def test_unknown_kid_refetches_at_most_once_a_minute() -> None:
    source, clock = StaticJwks(KEY), Clock()
    verifier = rs_verifier(source, clock)
    assert verifier.verify(KEY.sign(claims())).sub == "u1"
    assert source.fetches == 1
    rotated = RsaKey("key-2")
    for _ in range(5):  # forged kids do not hammer the issuer: the last fetch is under a minute old
        with pytest.raises(Unauthenticated):
            verifier.verify(rotated.sign(claims()))
    assert source.fetches == 1
    source.keys.append(rotated)  # the issuer publishes a new key
    clock.now += 59
    with pytest.raises(Unauthenticated):
        verifier.verify(rotated.sign(claims()))
    assert source.fetches == 1
    clock.now += 1
    assert verifier.verify(rotated.sign(claims())).sub == "u1"
    assert source.fetches == 2
    with pytest.raises(Unauthenticated):  # another unknown kid right after: no second fetch this minute
        verifier.verify(RsaKey("key-9").sign(claims()))
    assert source.fetches == 2
    assert verifier.verify(KEY.sign(claims())).sub == "u1"  # known kids never refetch
    assert source.fetches == 2


def test_unreachable_jwks_with_nothing_cached_is_unavailable_then_recovers() -> None:
    source, clock = StaticJwks(KEY), Clock()
    source.up = False
    verifier = rs_verifier(source, clock)
    with pytest.raises(ServiceUnavailable):
        verifier.verify(KEY.sign(claims()))
    with pytest.raises(ServiceUnavailable):  # no retry storm: the next attempt waits for the interval
        verifier.verify(KEY.sign(claims()))
    assert source.fetches == 1
    source.up = True
    clock.now += 60
    assert verifier.verify(KEY.sign(claims())).sub == "u1"


def test_unreachable_jwks_keeps_serving_cached_keys() -> None:
    source, clock = StaticJwks(KEY), Clock()
    verifier = rs_verifier(source, clock)
    verifier.verify(KEY.sign(claims()))
    source.up = False
    clock.now += 120
    with pytest.raises(Unauthenticated):
        verifier.verify(RsaKey("key-3").sign(claims()))
    assert verifier.verify(KEY.sign(claims())).sub == "u1"


@pytest.mark.parametrize("document", [{"nokeys": 1}, {"keys": "x"}, []])
def test_a_key_set_that_is_not_one_is_unavailable(document: Any) -> None:
    class Broken:
        def fetch(self) -> Any:
            return document

    cache = JwksCache(Broken(), 60, Clock())
    with pytest.raises(ServiceUnavailable):
        cache.key("k")


def test_a_broken_key_set_later_keeps_the_good_one() -> None:
    source, clock = StaticJwks(KEY), Clock()
    cache = JwksCache(source, 60, clock)
    assert cache.key(KEY.kid) is not None
    source.fetch = lambda: {"keys": None}  # type: ignore[method-assign]
    clock.now += 61
    assert cache.key("other") is None
    assert cache.key(KEY.kid) is not None


def test_missing_secret_is_unavailable() -> None:
    with pytest.raises(ServiceUnavailable):
        StaticSecret(None).secret()


class CountingSecret(StaticSecret):
    """A secret source that counts how often verification needed the key."""

    def __init__(self, value: str) -> None:
        super().__init__(value)
        self.reads = 0

    def secret(self) -> str:
        self.reads += 1
        return super().secret()


def remembering_verifier(clock: Clock, **kwargs: Any) -> tuple[TokenVerifier, CountingSecret]:
    source = CountingSecret(SECRET)
    verifier = TokenVerifier(SecretKeys(source), TokenRules(ISSUER, AUDIENCE, 30), clock=clock, **kwargs)
    return verifier, source


def test_a_verified_token_is_remembered_for_the_window_only() -> None:
    clock = Clock()
    clock.now = time.time()
    verifier, source = remembering_verifier(clock, remember_seconds=60)
    token = hs256("ada", email="ada@example.com")
    first = verifier.verify(token)
    assert verifier.verify(token) == first
    assert source.reads == 1
    clock.now += 61
    assert verifier.verify(token) == first
    assert source.reads == 2


def test_a_remembered_token_still_expires() -> None:
    clock = Clock()
    clock.now = time.time()
    verifier, source = remembering_verifier(clock, remember_seconds=3600)
    token = hs256("ada", exp=int(clock.now) + 10)
    verifier.verify(token)
    clock.now += 11  # past exp but within the 30 s leeway: verified again, not served from memory
    verifier.verify(token)
    assert source.reads == 2


def test_failures_are_not_remembered_and_memory_is_bounded() -> None:
    clock = Clock()
    clock.now = time.time()
    verifier, source = remembering_verifier(clock, remember_max=2)
    bad = tamper(hs256("ada"))
    for _ in range(2):
        with pytest.raises(Unauthenticated):
            verifier.verify(bad)
    assert source.reads == 2
    tokens = [hs256(f"user-{i}") for i in range(3)]
    for token in tokens:
        verifier.verify(token)
    verifier.verify(tokens[0])  # the oldest was evicted: verified again
    assert source.reads == 2 + 3 + 1
