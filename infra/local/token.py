"""`make token`: a one-hour bearer token signed with the local dev secret (for curl and /docs)."""

from __future__ import annotations

import os
import time
from typing import Any

from jose import jwt

from infra.local.env import function_env
from infra.local.template import Stack, load_template

API_FUNCTION = "ApiFunction"
SECRET_RESOURCE = "JwtSecret"
TTL_SECONDS = 3600


class NoSecret(Exception):
    """Neither the local Secrets Manager nor JWT_SECRET gave a signing secret."""


def mint(secret: str, sub: str, role: str, email: str | None, issuer: str, audience: str) -> str:
    """An HS256 token valid for one hour."""
    now = int(time.time())
    claims: dict[str, Any] = {"sub": sub, "role": role, "iss": issuer, "aud": audience}
    claims |= {"iat": now, "nbf": now, "exp": now + TTL_SECONDS}
    if email:
        claims["email"] = email
    return jwt.encode(claims, secret, algorithm="HS256")


def local_secret(stack: Stack) -> str | None:
    """The dev secret `make run` stored in the local Secrets Manager, or None if it is not running."""
    import boto3
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError

    factory: Any = boto3.client
    secrets = factory(
        "secretsmanager",
        endpoint_url=stack.endpoint,
        region_name=stack.region,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        # Fail fast when `make run` is not up, then fall back to JWT_SECRET.
        config=Config(connect_timeout=1, read_timeout=3, retries={"max_attempts": 1}),
    )
    try:
        answer = secrets.get_secret_value(SecretId=stack.name(SECRET_RESOURCE))
    except (BotoCoreError, ClientError):
        return None
    return str(answer["SecretString"])


def token_for(aws_port: int, sub: str, role: str, email: str | None) -> str:
    """A token the local API accepts: the local cloud's secret, else JWT_SECRET."""
    stack = Stack(load_template(), f"http://127.0.0.1:{aws_port}")
    env = function_env(stack, API_FUNCTION)
    secret = local_secret(stack) or os.environ.get("JWT_SECRET")
    if not secret:
        raise NoSecret("no local secret: start `make run` first, or set JWT_SECRET")
    issuer = os.environ.get("JWT_ISSUER", env["JWT_ISSUER"])
    audience = os.environ.get("JWT_AUDIENCE", env["JWT_AUDIENCE"])
    return mint(secret, sub, role, email, issuer, audience)
