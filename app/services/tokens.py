"""Bearer token verification: HS256 with a shared secret, or RS256 with an OIDC issuer's JWKS.

The accepted algorithm is pinned by the key source, never read from the token. Used by the
API (through app.api.deps) and by the Lambda authorizer (workers/authorizer.py).
"""

from __future__ import annotations

import base64
import binascii
import math
import re
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from jose import jwt

from app.domain.auth import Principal, Unauthenticated, principal_from_claims
from app.services.jwks import JwksCache
from app.services.ports.auth import KeySource, SecretSource

MAX_TOKEN_BYTES = 8192
_BASE64URL = re.compile(r"^[A-Za-z0-9_-]*$")
# NumericDate claims (RFC 7519) must be finite numbers in this range, or the token is refused.
_LATEST_DATE = 2**53
_DATE_CLAIMS = ("exp", "iat", "nbf")
HS256 = "HS256"
RS256 = "RS256"


class SecretKeys:
    """HS256 with a shared secret."""

    algorithm = HS256

    def __init__(self, source: SecretSource) -> None:
        self.source = source

    def key_for(self, header: Mapping[str, Any]) -> Any:
        """The shared secret, whatever the header says."""
        return self.source.secret()


class JwksKeys:
    """RS256 with the issuer's published keys, selected by `kid`."""

    algorithm = RS256

    def __init__(self, cache: JwksCache) -> None:
        self.cache = cache

    def key_for(self, header: Mapping[str, Any]) -> Any:
        """The JWK whose id the header names."""
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise Unauthenticated("the token header has no key id")
        key = self.cache.key(kid)
        if key is None:
            raise Unauthenticated("the token is signed with an unknown key")
        return key


@dataclass(frozen=True)
class TokenRules:
    """What a valid token's registered claims must say."""

    issuer: str
    audience: str
    leeway_seconds: int = 30
    # Cognito and other OIDC issuers put unverified addresses in tokens too: trust only email_verified.
    email_verified_claim_required: bool = False


class TokenVerifier:
    """Turns a bearer token into a Principal, or raises Unauthenticated.

    A warm function sees the same token on every request of a session, so successful
    verifications are remembered for a short while (never past the token's expiry), as API
    Gateway's authorizer cache does; the signature check is the costliest step of a request.
    """

    def __init__(
        self,
        keys: KeySource,
        rules: TokenRules,
        clock: Callable[[], float] = time.time,
        remember_seconds: float = 60.0,
        remember_max: int = 1024,
    ) -> None:
        self.keys = keys
        self.rules = rules
        self.clock = clock
        self.remember_seconds = remember_seconds
        self.remember_max = remember_max
        self._verified: OrderedDict[str, tuple[Principal, float, float]] = OrderedDict()

    def verify(self, token: str) -> Principal:
        """The principal of a valid token."""
        return self.verify_with_expiry(token)[0]

    def verify_with_expiry(self, token: str) -> tuple[Principal, float]:
        """The principal of a valid token and the token's expiry (`exp`, seconds since the epoch)."""
        now = self.clock()
        remembered = self._verified.get(token)
        if remembered is not None and now < remembered[1]:
            return remembered[0], remembered[2]
        claims = self.claims(token)
        principal = principal_from_claims(claims, verified_claim_required=self.rules.email_verified_claim_required)
        expires = float(claims["exp"])
        # Until the earlier of the token's expiry and the memory window (a rotated key takes effect then).
        self._verified[token] = (principal, min(expires, now + self.remember_seconds), expires)
        if len(self._verified) > self.remember_max:
            self._verified.popitem(last=False)
        return principal, expires

    def claims(self, token: str) -> dict[str, Any]:
        """The verified claims of a token."""
        header = _header(token)
        if header.get("alg") != self.keys.algorithm:
            raise Unauthenticated(f"only {self.keys.algorithm} tokens are accepted")
        key = self.keys.key_for(header)
        options = {"leeway": self.rules.leeway_seconds, "verify_aud": False, "require_exp": True}
        options |= {"require_iat": True, "require_sub": True, "require_iss": True}
        try:
            claims: dict[str, Any] = jwt.decode(
                token, key, algorithms=[self.keys.algorithm], issuer=self.rules.issuer, options=options
            )
        # python-jose is loose: odd claim values raise OverflowError, TypeError and others from inside it.
        except Exception as exc:  # noqa: BLE001 - any failure to verify is a bad token, never a 500
            raise Unauthenticated(_reason(exc)) from None
        _check_dates(claims)
        self._check_iat(claims)
        self._check_audience(claims)
        return claims

    def _check_iat(self, claims: Mapping[str, Any]) -> None:
        # python-jose only checks that iat is a number; a token issued in the future is forged or skewed.
        if float(claims["iat"]) > self.clock() + self.rules.leeway_seconds:
            raise Unauthenticated("the token was issued in the future")

    def _check_audience(self, claims: Mapping[str, Any]) -> None:
        # Cognito access tokens carry the app client in client_id; id tokens (and OIDC) in aud.
        use = claims.get("token_use")
        if use == "access":
            ok = claims.get("client_id") == self.rules.audience
        elif use in (None, "id"):
            aud = claims.get("aud")
            ok = aud == self.rules.audience or (isinstance(aud, list) and self.rules.audience in aud)
        else:
            ok = False
        if not ok:
            raise Unauthenticated("the token is not meant for this audience")


def _check_dates(claims: Mapping[str, Any]) -> None:
    for name in _DATE_CLAIMS:
        value = claims.get(name)
        if name not in claims and name == "nbf":
            continue
        if isinstance(value, bool) or not isinstance(value, int | float) or not _in_range(value):
            raise Unauthenticated(f"the token's {name} is not a valid time")


def _in_range(value: int | float) -> bool:
    return (isinstance(value, int) or math.isfinite(value)) and 0 <= value <= _LATEST_DATE


def _canonical(segment: str) -> bool:
    """True for unpadded base64url that decodes and re-encodes to itself (no '=', '+', '/' or stray bits)."""
    if not _BASE64URL.fullmatch(segment) or len(segment) % 4 == 1:
        return False
    try:
        raw = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    except (binascii.Error, ValueError):  # pragma: no cover - the pattern and length checks above exclude it
        return False
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode() == segment


def _header(token: str) -> dict[str, Any]:
    if not token:
        raise Unauthenticated("the bearer token is empty")
    if len(token) > MAX_TOKEN_BYTES:
        raise Unauthenticated("the bearer token is too large")
    if token.count(".") != 2:
        raise Unauthenticated("the bearer token is not a JWT")
    if not all(_canonical(segment) for segment in token.split(".")):
        raise Unauthenticated("the bearer token is not canonical base64url")
    try:
        header = jwt.get_unverified_header(token)
    except Exception as exc:
        raise Unauthenticated("the token header is not valid") from exc
    if not isinstance(header, dict):
        raise Unauthenticated("the token header is not valid")
    return header


def _reason(exc: Exception) -> str:
    text = str(exc).lower()
    if "expired" in text:
        return "the token has expired"
    if "before" in text or "nbf" in text:
        return "the token is not yet valid"
    if "issuer" in text:
        return "the token comes from another issuer"
    if "signature" in text:
        return "the token signature is not valid"
    return "the token is not valid"
