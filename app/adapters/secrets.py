"""The HS256 shared secret: from AWS Secrets Manager (cached by Powertools) or, for local development, a value."""

from __future__ import annotations

import weakref
from typing import Any

from app.domain.errors import ServiceUnavailable

_LIVE: weakref.WeakSet[SecretsManagerSecret] = weakref.WeakSet()


def forget_cached_secrets() -> None:
    """Every Secrets Manager secret of this process is read again on its next use (after a SnapStart restore)."""
    for secret in list(_LIVE):
        secret.provider.clear_cache()  # type: ignore[no-untyped-call]


class SecretsManagerSecret:
    """A Secrets Manager secret read through Powertools' parameters utility, cached for max_age seconds."""

    def __init__(self, client: Any, secret_id: str, max_age: int, what: str = "the token signing secret") -> None:
        # Deferred: Powertools' parameters module loads boto3; only secret mode pays for it.
        from aws_lambda_powertools.utilities.parameters import SecretsProvider

        self.provider = SecretsProvider(boto3_client=client)
        self.secret_id = secret_id
        self.max_age = max_age
        self.what = what
        _LIVE.add(self)

    def secret(self) -> str:
        """The secret string; ServiceUnavailable if it cannot be read."""
        from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError

        try:
            value = self.provider.get(self.secret_id, max_age=self.max_age)
        except GetParameterError as exc:
            raise ServiceUnavailable(f"{self.what} cannot be read") from exc
        text = value.decode() if isinstance(value, bytes) else str(value)
        if not text:
            raise ServiceUnavailable(f"{self.what} is empty")
        return text


class StaticSecret:
    """A secret given in the configuration (local development only)."""

    def __init__(self, value: str | None, what: str = "token signing secret") -> None:
        self.value = value
        self.what = what

    def secret(self) -> str:
        """The configured value; ServiceUnavailable if none is configured."""
        if not self.value:
            raise ServiceUnavailable(f"no {self.what} is configured")
        return self.value
