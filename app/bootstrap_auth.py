"""Builds the token verifier and its key adapters from Settings.

Kept apart from app.bootstrap so that the Lambda authorizer's cold start loads only what
verification needs (no DynamoDB or SNS adapters); app.bootstrap.Container delegates here.
"""

from __future__ import annotations

from typing import Any

from app.adapters.jwks_http import HttpJwks
from app.adapters.secrets import SecretsManagerSecret, StaticSecret
from app.services.jwks import JwksCache
from app.services.tokens import JwksKeys, KeySource, SecretKeys, SecretSource, TokenRules, TokenVerifier
from app.settings import Settings


def aws_client(settings: Settings, service: str) -> Any:
    """A boto3 client with the service's timeouts and retry policy."""
    import boto3  # deferred: only code paths that talk to AWS pay for botocore
    from botocore.config import Config

    config = Config(
        connect_timeout=settings.aws_connect_timeout,
        read_timeout=settings.aws_read_timeout,
        retries={"mode": "standard", "max_attempts": settings.aws_max_attempts},
    )
    session: Any = boto3.session.Session()
    return session.client(service, region_name=settings.aws_region, config=config)


def secret_source(settings: Settings) -> SecretSource:
    """Secrets Manager when a secret id is configured, else the JWT_SECRET value."""
    if settings.jwt_secret_id:
        return SecretsManagerSecret(
            aws_client(settings, "secretsmanager"), settings.jwt_secret_id, settings.jwt_secret_max_age
        )
    return StaticSecret(settings.jwt_secret.get_secret_value() if settings.jwt_secret else None)


def key_source(settings: Settings) -> KeySource:
    """HS256 keys in secret mode, the issuer's JWKS in cognito mode."""
    if settings.auth_mode == "cognito":
        jwks = HttpJwks(settings.jwks_endpoint, settings.jwks_timeout)
        return JwksKeys(JwksCache(jwks, settings.jwks_min_refetch_seconds))
    return SecretKeys(secret_source(settings))


def token_verifier(settings: Settings) -> TokenVerifier:
    """The verifier the settings describe."""
    rules = TokenRules(settings.jwt_issuer, settings.jwt_audience, settings.jwt_leeway_seconds)
    return TokenVerifier(key_source(settings), rules)
