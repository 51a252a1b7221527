"""ReconcileOrder: settles an order whose workflow ended without settling it.

Two event sources. A STANDARD workflow's execution that ends FAILED, TIMED_OUT or ABORTED raises an EventBridge
status-change event; an EXPRESS workflow raises none, so the queue worker leaves a delayed message on the watch
queue for each order it starts. Either way, whatever the saga left undone (a task process that died, a
compensation that ran out of retries, an execution stopped or timed out) is finished here: the stock is given
back, the charge refunded and the order marked FAILED; a confirmed order gets the OrderProcessed it still owes.
"""

from __future__ import annotations

import app.coldstart  # noqa: F401  # isort: skip - first: the GC pauses for the init (app/coldstart.py)
import json
from datetime import timedelta
from typing import Any

from app.domain.errors import ServiceUnavailable
from app.observability import entrypoint, logger
from app.services.reconcile import WORKFLOW_ENDED, Settled
from workers.common import order_id_of, services
from workers.sqs_batch import QueueMessage, partial_batch


@entrypoint
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """A status-change event, or a batch of watch messages."""
    if isinstance(event, dict) and "Records" in event:
        return partial_batch(event, watched)
    return execution_ended(event)


def execution_ended(event: dict[str, Any]) -> dict[str, Any]:
    """Settle the order the execution was named after (executions are named by order id)."""
    detail = event.get("detail") if isinstance(event, dict) else None
    detail = detail if isinstance(detail, dict) else {}
    order_id, status = detail.get("name"), detail.get("status")
    if not isinstance(order_id, str) or not order_id or status not in WORKFLOW_ENDED:
        logger.warning("not an ended order execution: ignored", extra={"status": str(status)[:40]})
        return {"outcome": "ignored"}
    logger.set_correlation_id(order_id)
    reply = _reply(services().order_reconciler.reconcile(order_id, WORKFLOW_ENDED[status]))
    logger.info("order reconciled", extra={**reply, "execution": status, "error": detail.get("error")})
    return reply


def watched(record: QueueMessage) -> dict[str, Any]:
    """One watch message: settle the order if it is still unfinished; raise to look again later."""
    logger.set_correlation_id(None)
    try:
        order_id = order_id_of(json.loads(record.body))
    except Exception:
        logger.error("malformed watch message", extra={"messageId": record.message_id, "body": record.body[:256]})
        raise
    logger.set_correlation_id(order_id)
    container = services()
    unfinished = timedelta(seconds=container.settings.workflow_unfinished_seconds)
    settled = container.order_reconciler.check(order_id, unfinished)
    if settled is None:
        # Redelivered after the visibility timeout: by then no execution of it can be running.
        raise ServiceUnavailable(f"order {order_id} may still have a running execution")
    reply = _reply(settled)
    if settled.released or settled.refunded or settled.failed or settled.published:
        logger.info("order reconciled", extra={**reply, "execution": "watch"})
    return reply


def _reply(settled: Settled) -> dict[str, Any]:
    return {
        "outcome": "settled",
        "orderId": settled.order_id,
        "status": settled.status.value if settled.status else None,
        "released": settled.released,
        "refunded": settled.refunded,
        "failed": settled.failed,
        "published": settled.published,
    }
