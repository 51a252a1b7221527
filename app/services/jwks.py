"""A cache of an OIDC issuer's signing keys: refetched when they reach their maximum age, and on an unknown
key id, at most once per interval. A key the issuer removed stops verifying at the next refetch."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from app.domain.errors import ServiceUnavailable
from app.services.ports.auth import JwksSource


class JwksCache:
    """Keys by `kid`; an unknown `kid` triggers a refetch, rate-limited so forged kids cannot flood the issuer."""

    def __init__(
        self,
        source: JwksSource,
        min_refetch_seconds: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        max_age_seconds: float = 300.0,
    ) -> None:
        self.source = source
        self.min_refetch_seconds = min_refetch_seconds
        self.max_age_seconds = max(max_age_seconds, min_refetch_seconds)
        self.clock = clock
        self.fetches = 0
        self._keys: dict[str, dict[str, Any]] | None = None
        self._attempted_at: float | None = None
        self._fetched_at: float | None = None
        self._lock = threading.Lock()

    def key(self, kid: str) -> dict[str, Any] | None:
        """The key with this id, or None; ServiceUnavailable if no key set was ever fetched."""
        with self._lock:
            wanted = self._keys is None or kid not in self._keys or self._stale()
            if wanted and self._may_fetch():
                self._refresh()
            if self._keys is None:
                raise ServiceUnavailable("the token issuer's signing keys are unavailable")
            return self._keys.get(kid)

    def _stale(self) -> bool:
        return self._fetched_at is None or self.clock() - self._fetched_at >= self.max_age_seconds

    def _may_fetch(self) -> bool:
        return self._attempted_at is None or self.clock() - self._attempted_at >= self.min_refetch_seconds

    def _refresh(self) -> None:
        self._attempted_at = self.clock()
        self.fetches += 1
        try:
            document = self.source.fetch()
        except ServiceUnavailable:
            if self._keys is None:
                raise
            return  # keep serving the keys we have; the next refetch waits a full interval
        keys = document.get("keys") if isinstance(document, dict) else None
        if not isinstance(keys, list):
            if self._keys is None:
                raise ServiceUnavailable("the token issuer published no key set")
            return
        # Replaced whole, never merged: a key the issuer no longer publishes is gone.
        self._keys = {k["kid"]: k for k in keys if isinstance(k, dict) and isinstance(k.get("kid"), str)}
        self._fetched_at = self._attempted_at
