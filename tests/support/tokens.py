"""Bearer tokens for tests: HS256 with a test secret (or the local cloud's), RS256 with generated RSA keys."""

from __future__ import annotations

import time
import uuid
from functools import lru_cache
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jose import jwk, jwt

from app.adapters.secrets import StaticSecret
from app.services.tokens import SecretKeys, TokenRules, TokenVerifier

SECRET = "test-signing-secret-0123456789abcdef"
ISSUER = "order-service"
AUDIENCE = "order-service"
ADMIN_SUB = "admin-1"


def claims(sub: str | None = "u1", role: str | None = "user", email: str | None = None, **extra: Any) -> dict[str, Any]:
    """Valid registered claims for one hour, plus any overrides (None removes a claim)."""
    now = int(time.time())
    base: dict[str, Any] = {"sub": sub, "iss": ISSUER, "aud": AUDIENCE, "iat": now, "nbf": now, "exp": now + 3600}
    if role is not None:
        base["role"] = role
    if email is not None:
        base["email"] = email
    merged = {**base, **extra}
    return {k: v for k, v in merged.items() if v is not None}


def hs256(
    sub: str | None = "u1", role: str | None = "user", email: str | None = None, secret: str = SECRET, **extra: Any
) -> str:
    """An HS256 token."""
    return jwt.encode(claims(sub, role, email, **extra), secret, algorithm="HS256")


def bearer(token: str) -> dict[str, str]:
    """An Authorization header."""
    return {"authorization": f"Bearer {token}"}


def as_user(sub: str, email: str | None = None, secret: str = SECRET) -> dict[str, str]:
    """Headers of a plain user whose token vouches for `email` (by default `<sub>@example.com`)."""
    return bearer(hs256(sub, "user", email or f"{sub}@example.com", secret=secret))


def as_admin(secret: str = SECRET) -> dict[str, str]:
    """Headers of an admin."""
    return bearer(hs256(ADMIN_SUB, "admin", "admin@example.com", secret=secret))


def verifier(secret: str = SECRET) -> TokenVerifier:
    """A secret-mode verifier with the test secret."""
    return TokenVerifier(SecretKeys(StaticSecret(secret)), TokenRules(ISSUER, AUDIENCE, 30))


class RsaKey:
    """An RSA key pair with a key id, able to sign RS256 tokens and publish itself as a JWK."""

    def __init__(self, kid: str | None = None) -> None:
        self.kid = kid or uuid.uuid4().hex[:12]
        self.private_pem, self.public_pem = _rsa_pems(self.kid)

    def jwk(self) -> dict[str, Any]:
        """The public key as a JWK."""
        public: dict[str, Any] = jwk.construct(self.public_pem, "RS256").to_dict()
        return {**public, "kid": self.kid, "use": "sig", "alg": "RS256"}

    def sign(self, payload: dict[str, Any], kid: str | None = "", **headers: Any) -> str:
        """An RS256 token; kid="" uses this key's id, None leaves it out."""
        extra = dict(headers)
        if kid is not None:
            extra["kid"] = kid or self.kid
        return jwt.encode(payload, self.private_pem, algorithm="RS256", headers=extra)


@lru_cache(maxsize=8)
def _rsa_pems(kid: str) -> tuple[str, str]:
    # Key generation costs ~50 ms; cached per kid so test modules can reuse their keys cheaply.
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


class Signer:
    """Auth headers signed with one secret (the local cloud's, in integration tests)."""

    def __init__(self, secret: str) -> None:
        self.secret = secret

    def user(self, sub: str, email: str | None = None) -> dict[str, str]:
        """Headers of a plain user."""
        return as_user(sub, email, self.secret)

    def admin(self) -> dict[str, str]:
        """Headers of an admin."""
        return as_admin(self.secret)
