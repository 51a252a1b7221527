"""ProcessOrder: the order queue's SQS consumer. Each record starts the order's workflow once.

Partial batch responses (ReportBatchItemFailures): a failing record, a malformed one included,
is reported alone, so SQS redelivers only it and moves it to the DLQ after maxReceiveCount; a batch
where every record failed is reported the same way.
"""

from __future__ import annotations

import app.coldstart  # noqa: F401  # isort: skip - first: the GC pauses for the init (app/coldstart.py)
import json
from typing import Any

from app.observability import entrypoint, logger
from workers.common import order_id_of, services, task
from workers.sqs_batch import QueueMessage, partial_batch


@task
def dispatch(payload: dict[str, Any], context: Any) -> str:
    """Move the order to PROCESSING and start its workflow (named by the order id)."""
    return services().order_dispatcher.dispatch(order_id_of(payload))


def record_handler(record: QueueMessage) -> str:
    """Handle one message; raise to report it as failed."""
    logger.set_correlation_id(None)  # the previous record's order id must not label this one's lines
    try:
        payload = json.loads(record.body)
        order_id_of(payload)
    except Exception:
        logger.error("malformed order message", extra={"messageId": record.message_id, "body": record.body[:256]})
        raise
    outcome = str(dispatch(payload, None))
    # DEBUG: a line per order is a line per order billed (LogLevel=DEBUG shows it); failures log at WARNING.
    logger.debug(
        "order dispatched", extra={"messageId": record.message_id, "orderId": payload["orderId"], "outcome": outcome}
    )
    return outcome


@entrypoint
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Lambda handler: process the batch, report the failed message ids."""
    return partial_batch(event, record_handler)
