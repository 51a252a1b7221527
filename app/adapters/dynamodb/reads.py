"""Batched reads: BatchGetItem in pages of 100 keys, asking again for the keys DynamoDB left unprocessed."""

from __future__ import annotations

import time
from typing import Any

from app.domain.errors import ServiceUnavailable

BATCH = 100  # BatchGetItem's limit of keys per request
ATTEMPTS = 8


def batch_get(client: Any, table: str, keys: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every item found for the keys, read consistently, in no particular order."""
    found: list[dict[str, Any]] = []
    for start in range(0, len(keys), BATCH):
        request: dict[str, Any] = {table: {"Keys": keys[start : start + BATCH], "ConsistentRead": True}}
        for attempt in range(ATTEMPTS):
            result = client.batch_get_item(RequestItems=request)
            found += result.get("Responses", {}).get(table, [])
            request = result.get("UnprocessedKeys") or {}
            if not request:
                break
            # Unprocessed keys mean the table or a key is at its limit: back off, as AWS advises, and ask again.
            time.sleep(min(0.05 * 2**attempt, 1.0))
        if request:
            raise ServiceUnavailable(f"{table}: keys left unprocessed after {ATTEMPTS} attempts, retry")
    return found
