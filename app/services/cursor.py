"""Opaque, tamper-evident pagination cursors."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Callable
from typing import Any

from app.domain.errors import InvalidCursor

_SIG_BYTES = 16


class CursorCodec:
    """Signs page keys so that clients cannot forge or edit them."""

    def __init__(self, key: str | Callable[[], str], scope: str) -> None:
        # A callable is asked on each use: the key comes from Secrets Manager, cached and rotated there.
        self._key = key if callable(key) else (lambda: key)
        # The scope binds a cursor to one listing, so it cannot be replayed on another.
        self._scope = scope.encode()

    def encode(self, page_key: dict[str, Any] | None) -> str | None:
        """A cursor for a page key (None stays None)."""
        if page_key is None:
            return None
        payload = json.dumps(page_key, separators=(",", ":"), sort_keys=True).encode()
        token = self._sign(payload) + payload
        return base64.urlsafe_b64encode(token).decode().rstrip("=")

    def decode(self, cursor: str | None) -> dict[str, Any] | None:
        """The page key of a cursor; InvalidCursor if it was not made by us."""
        if not cursor:
            return None
        try:
            raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        except (binascii.Error, ValueError) as exc:
            raise InvalidCursor("cursor is not valid") from exc
        signature, payload = raw[:_SIG_BYTES], raw[_SIG_BYTES:]
        if not hmac.compare_digest(signature, self._sign(payload)):
            raise InvalidCursor("cursor is not valid")
        value = json.loads(payload)
        if not isinstance(value, dict):  # pragma: no cover - only our own signed payloads get here
            raise InvalidCursor("cursor is not valid")
        return value

    def _sign(self, payload: bytes) -> bytes:
        return hmac.new(self._key().encode(), self._scope + b"\0" + payload, hashlib.sha256).digest()[:_SIG_BYTES]
