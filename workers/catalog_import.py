"""CatalogImport: imports an uploaded CSV (S3 ObjectCreated) or continues one (its continuation queue)."""

from __future__ import annotations

import app.coldstart  # noqa: F401  # isort: skip - first: the GC pauses for the init (app/coldstart.py)
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote_plus

from app.observability import entrypoint, logger
from app.services.ports.imports import ObjectRef
from workers.common import services
from workers.sqs_batch import QueueMessage, partial_batch


class MalformedContinuation(ValueError):
    """A continuation queue message that is not {importId, bucket, key, eTag, size}."""


def object_refs(event: dict[str, Any]) -> list[ObjectRef]:
    """The objects named by S3 ObjectCreated records."""
    refs = []
    for record in event.get("Records", []):
        if str(record.get("eventName", "")).startswith("ObjectCreated:"):
            s3 = record["s3"]
            # S3 URL-encodes keys in events ('+' for spaces).
            key = unquote_plus(s3["object"]["key"])
            refs.append(ObjectRef(s3["bucket"]["name"], key, s3["object"]["eTag"], int(s3["object"]["size"])))
    return refs


def continuation(message: QueueMessage) -> ObjectRef:
    """The object a continuation message names; MalformedContinuation for any other body."""
    try:
        body = json.loads(message.body)
        return ObjectRef(str(body["bucket"]), str(body["key"]), str(body["eTag"]), int(body["size"]))
    except (ValueError, TypeError, KeyError) as exc:
        raise MalformedContinuation(f"malformed continuation message: {type(exc).__name__}") from None


def _is_queue_batch(event: dict[str, Any]) -> bool:
    records = event.get("Records")
    return isinstance(records, list) and any(isinstance(r, dict) and r.get("eventSource") == "aws:sqs" for r in records)


@entrypoint
def handler(event: dict[str, Any], context: Any) -> Any:
    """Run each import as far as time allows; an unexpected error raises so the event is retried.

    A continuation batch is answered as a partial batch: a malformed message is one log line, and SQS
    redelivers it, then parks it in ImportDeadLetterQueue, like the order queue's.
    """
    remaining = context.get_remaining_time_in_millis if context is not None else lambda: 900_000
    if _is_queue_batch(event):
        done: list[dict[str, Any]] = []
        failed = partial_batch(event, lambda message: done.append(_run(continuation(message), remaining)))
        return {**failed, "imports": done}  # Lambda reads only batchItemFailures; `imports` is for make invoke
    return [_run(ref, remaining) for ref in object_refs(event)]


def _run(ref: ObjectRef, remaining: Callable[[], int]) -> dict[str, Any]:
    """Run one import and log its outcome."""
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
    return {"importId": outcome.import_id, "outcome": outcome.outcome, **counts}
