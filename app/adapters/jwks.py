"""Fetches an OIDC issuer's JSON Web Key Set over HTTPS."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from app.domain.errors import ServiceUnavailable

MAX_JWKS_BYTES = 1_048_576


class HttpJwks:
    """GET {issuer}/.well-known/jwks.json, with a timeout and a size cap."""

    def __init__(self, url: str, timeout: float) -> None:
        if not url.startswith(("https://", "http://")):
            raise ValueError("the JWKS URL must be http(s)")
        self.url = url
        self.timeout = timeout

    def fetch(self) -> dict[str, Any]:
        """The key set; ServiceUnavailable if the issuer cannot be reached or answers nonsense."""
        request = urllib.request.Request(self.url, headers={"accept": "application/json"})  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 - scheme checked above
                body = response.read(MAX_JWKS_BYTES + 1)
            if len(body) > MAX_JWKS_BYTES:
                raise ServiceUnavailable("the issuer's key set is too large")
            document = json.loads(body)
        except (OSError, ValueError) as exc:  # URLError, HTTPError and timeouts are OSErrors
            raise ServiceUnavailable("the token issuer's key set cannot be fetched") from exc
        if not isinstance(document, dict):
            raise ServiceUnavailable("the token issuer's key set is not a JSON object")
        return document
