"""CatalogImport: imports an uploaded CSV (S3 ObjectCreated) or continues one (its continuation queue)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote_plus

from app.observability import logger
from app.services.import_ports import ObjectRef
from workers.common import services


def object_refs(event: dict[str, Any]) -> list[ObjectRef]:
    """The objects named by S3 ObjectCreated records and continuation messages."""
    refs = []
    for record in event.get("Records", []):
        if record.get("eventSource") == "aws:sqs":
            body = json.loads(record["body"])
            refs.append(ObjectRef(body["bucket"], body["key"], body["eTag"], int(body["size"])))
        elif str(record.get("eventName", "")).startswith("ObjectCreated:"):
            s3 = record["s3"]
            # S3 URL-encodes keys in events ('+' for spaces).
            key = unquote_plus(s3["object"]["key"])
            refs.append(ObjectRef(s3["bucket"]["name"], key, s3["object"]["eTag"], int(s3["object"]["size"])))
    return refs


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
        logger.info(f"import {outcome.outcome}", extra={"importId": outcome.import_id, "key": ref.key, **counts})
        results.append({"importId": outcome.import_id, "outcome": outcome.outcome, **counts})
    return results
