"""Partial batch responses of the SQS consumers (ReportBatchItemFailures): a failed record is reported alone.

Written here rather than with Powertools' BatchProcessor: its import cost 48 ms of every cold start of the
queue consumers (it loads every event source's data classes and asyncio), for this one loop.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from app.observability import logger


@dataclass(frozen=True)
class QueueMessage:
    """The parts of an SQS record a consumer reads."""

    message_id: str
    body: str


def partial_batch(event: Any, handle: Callable[[QueueMessage], object]) -> dict[str, list[dict[str, str]]]:
    """Handle each record in order; the ids of those that raised, for SQS to redeliver (and dead-letter)."""
    # A batch whose every record failed is reported the same way, not as a function error: each record is
    # redelivered and dead-lettered on its own, and the Errors alarm keeps meaning "the function crashed".
    failures: list[dict[str, str]] = []
    for message in _messages(event):
        try:
            handle(message)
        except Exception as exc:  # noqa: BLE001 - any failure is this record's alone
            logger.warning("record failed", extra={"messageId": message.message_id, "error": type(exc).__name__})
            failures.append({"itemIdentifier": message.message_id})
    return {"batchItemFailures": failures}


def _messages(event: Any) -> list[QueueMessage]:
    """The batch's messages; ValueError for an event that is not an SQS batch (nothing is handled then)."""
    records = event.get("Records") if isinstance(event, Mapping) else None
    if not isinstance(records, list):
        raise ValueError("not an SQS event: no Records")
    messages = []
    for record in records:
        if not isinstance(record, Mapping) or not isinstance(record.get("messageId"), str):
            raise ValueError("an SQS record without a messageId")
        body = record.get("body")
        messages.append(QueueMessage(record["messageId"], body if isinstance(body, str) else ""))
    return messages
