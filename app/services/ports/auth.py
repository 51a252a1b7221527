"""Ports of token verification: where the HS256 secret and the issuer's signing keys come from."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol


class SecretSource(Protocol):
    """Gives a secret (the HS256 signing secret, the cursor key); raises ServiceUnavailable when unreadable."""

    def secret(self) -> str:
        """The current secret."""


class KeySource(Protocol):
    """The one algorithm a mode accepts, and the key that verifies a token with a given header."""

    algorithm: str

    def key_for(self, header: Mapping[str, Any]) -> Any:
        """The verification key; Unauthenticated if none fits, ServiceUnavailable if unreachable."""


class JwksSource(Protocol):
    """Fetches a JSON Web Key Set; raises ServiceUnavailable when the issuer cannot be reached."""

    def fetch(self) -> dict[str, Any]:
        """The key set document."""
