"""CatalogImport: imports an uploaded CSV (S3 ObjectCreated) or continues one (its continuation queue)."""

from __future__ import annotations

import app.coldstart  # noqa: F401  # isort: skip - first: the GC pauses for the init (app/coldstart.py)
import json
from typing import Any
from urllib.parse import unquote_plus

from app.observability import logger, traced
from app.services.ports.imports import ObjectRef
from workers.common import services


class MalformedContinuation(ValueError):
    """A continuation queue message that is not {importId, bucket, key, eTag, size}."""


def object_refs(event: dict[str, Any]) -> list[ObjectRef]:
    """The objects named by S3 ObjectCreated records and continuation messages."""
    refs = []
    for record in event.get("Records", []):
        if record.get("eventSource") == "aws:sqs":
            refs.append(_continuation(record))
        elif str(record.get("eventName", "")).startswith("ObjectCreated:"):
            s3 = record["s3"]
            # S3 URL-encodes keys in events ('+' for spaces).
            key = unquote_plus(s3["object"]["key"])
            refs.append(ObjectRef(s3["bucket"]["name"], key, s3["object"]["eTag"], int(s3["object"]["size"])))
    return refs


def _continuation(record: dict[str, Any]) -> ObjectRef:
    try:
        body = json.loads(record["body"])
        return ObjectRef(str(body["bucket"]), str(body["key"]), str(body["eTag"]), int(body["size"]))
    except (ValueError, TypeError, KeyError) as exc:
        # Raised, not dropped: the queue redelivers it and then parks it in ImportDeadLetterQueue.
        message = f"malformed continuation message {record.get('messageId')}: {type(exc).__name__}"
        logger.error(message)
        raise MalformedContinuation(message) from None


@traced
def handler(event: dict[str, Any], context: Any) -> list[dict[str, Any]]:
    """Run each import as far as time allows; an unexpected error raises so the event is retried."""
    remaining = context.get_remaining_time_in_millis if context is not None else lambda: 900_000
    results = []
    for ref in object_refs(event):
        outcome = services().catalog_imports.run(ref, remaining)
        p = outcome.progress
        counts = {}
        if p is not None:
            counts = {"rowsRead": p.rows_read, "rowsImported": p.rows_imported, "rowsRejected": p.rows_rejected}
        extra = {"importId": outcome.import_id, "key": ref.key, **counts}
        if outcome.error is not None:
            logger.error(f"import {outcome.outcome}", extra=extra, exc_info=outcome.error)
        else:
            logger.info(f"import {outcome.outcome}", extra=extra)
        results.append({"importId": outcome.import_id, "outcome": outcome.outcome, **counts})
    return results
