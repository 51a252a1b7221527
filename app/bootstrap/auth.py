"""Builds the token verifier and its key adapters from Settings.

Kept apart from the container so that the Lambda authorizer's cold start loads only what
verification needs (no DynamoDB or SNS adapters); the container delegates here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from app.adapters.jwks import HttpJwks
from app.adapters.secrets import SecretsManagerSecret, StaticSecret
from app.bootstrap.aws import AwsClients
from app.services.jwks import JwksCache
from app.services.ports.auth import KeySource, SecretSource
from app.services.tokens import JwksKeys, SecretKeys, TokenRules, TokenVerifier
from app.settings import Settings


def secret_source(settings: Settings, clients: Callable[[str], Any]) -> SecretSource:
    """Secrets Manager when a secret id is configured, else the JWT_SECRET value."""
    if settings.jwt_secret_id:
        return SecretsManagerSecret(clients("secretsmanager"), settings.jwt_secret_id, settings.jwt_secret_max_age)
    return StaticSecret(settings.jwt_secret.get_secret_value() if settings.jwt_secret else None)


def key_source(settings: Settings, clients: Callable[[str], Any]) -> KeySource:
    """HS256 keys in secret mode, the issuer's JWKS in cognito mode."""
    if settings.auth_mode == "cognito":
        jwks = HttpJwks(settings.jwks_endpoint, settings.jwks_timeout)
        return JwksKeys(
            JwksCache(jwks, settings.jwks_min_refetch_seconds, max_age_seconds=settings.jwks_max_age_seconds)
        )
    return SecretKeys(secret_source(settings, clients))


def token_verifier(
    settings: Settings, clients: Callable[[str], Any] | None = None, keys: KeySource | None = None
) -> TokenVerifier:
    """The verifier the settings describe (with `keys` given, those keys: the tests' seam)."""
    rules = TokenRules(
        settings.jwt_issuer,
        settings.jwt_audience,
        settings.jwt_leeway_seconds,
        email_verified_claim_required=settings.auth_mode == "cognito",
    )
    return TokenVerifier(keys or key_source(settings, clients or AwsClients(settings)), rules)
