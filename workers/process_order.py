"""ProcessOrder: the order queue's SQS consumer. Each record starts the order's workflow once.

Partial batch responses (ReportBatchItemFailures): a failing record, a malformed one included,
is reported alone, so SQS redelivers only it and moves it to the DLQ after maxReceiveCount; a batch
where every record failed is reported the same way.
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from app.observability import logger, traced
from workers.common import order_id_of, services, task

# A batch whose every record failed is still a partial-batch reply, not a function error: each record is
# redelivered and dead-lettered on its own, and the Errors alarm keeps meaning "the function crashed".
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


@task
def dispatch(payload: dict[str, Any], context: Any) -> str:
    """Move the order to PROCESSING and start its workflow (named by the order id)."""
    return services().order_dispatcher.dispatch(order_id_of(payload))


def record_handler(record: SQSRecord) -> str:
    """Handle one message; raise to report it as failed."""
    logger.set_correlation_id(None)  # the previous record's order id must not label this one's lines
    try:
        payload = json.loads(record.body)
        order_id_of(payload)
    except Exception:
        logger.error("malformed order message", extra={"messageId": record.message_id, "body": record.body[:256]})
        raise
    outcome = str(dispatch(payload, None))
    logger.info(
        "order dispatched", extra={"messageId": record.message_id, "orderId": payload["orderId"], "outcome": outcome}
    )
    return outcome


@traced
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Lambda handler: process the batch, report the failed message ids."""
    response = process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
    return dict(response)
