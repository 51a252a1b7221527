"""Builds the pagination cursors' key from Settings.

Apart from auth.py: listing needs the key, not python-jose, and behind API Gateway the API verifies no token.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from app.adapters.secrets import SecretsManagerSecret, StaticSecret
from app.settings import Settings

# Outside AWS only (Settings refuses plain secrets there): lets a bare `uvicorn` or a test list pages.
LOCAL_CURSOR_KEY = "local-dev-cursor-key-never-used-in-aws"


def cursor_key(settings: Settings, clients: Callable[[str], Any]) -> Callable[[], str]:
    """The pagination cursors' HMAC key: Secrets Manager when an id is configured, else the local value."""
    secret_id = settings.cursor_key_secret_id
    if secret_id:
        # Built on the first cursor: a request that lists nothing pays for no Secrets Manager client.
        made: list[SecretsManagerSecret] = []

        def from_secrets_manager() -> str:
            if not made:
                made.append(
                    SecretsManagerSecret(
                        clients("secretsmanager"), secret_id, settings.jwt_secret_max_age, "the cursor key"
                    )
                )
            return made[0].secret()

        return from_secrets_manager
    if settings.cursor_signing_key is not None:
        return StaticSecret(settings.cursor_signing_key.get_secret_value(), "cursor signing key").secret
    return StaticSecret(None if settings.in_aws else LOCAL_CURSOR_KEY, "cursor signing key").secret
