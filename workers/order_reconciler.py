"""ReconcileOrder: an order workflow execution ended FAILED, TIMED_OUT or ABORTED (its EventBridge event).

Whatever the saga left undone (a task process that died, a compensation that ran out of retries, an
execution stopped by hand) is finished here within a minute: the stock is given back, the charge refunded
and the order marked FAILED; a confirmed order gets the OrderProcessed event it still owes.
"""

from __future__ import annotations

from typing import Any

from app.observability import logger, traced
from app.services.reconcile import WORKFLOW_ENDED
from workers.common import services


@traced
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Settle the order the execution was named after (executions are named by order id)."""
    detail = event.get("detail") if isinstance(event, dict) else None
    detail = detail if isinstance(detail, dict) else {}
    order_id, status = detail.get("name"), detail.get("status")
    if not isinstance(order_id, str) or not order_id or status not in WORKFLOW_ENDED:
        logger.warning("not an ended order execution: ignored", extra={"status": str(status)[:40]})
        return {"outcome": "ignored"}
    logger.set_correlation_id(order_id)
    settled = services().order_reconciler.reconcile(order_id, WORKFLOW_ENDED[status])
    reply = {
        "outcome": "settled",
        "orderId": order_id,
        "status": settled.status.value if settled.status else None,
        "released": settled.released,
        "refunded": settled.refunded,
        "failed": settled.failed,
        "published": settled.published,
    }
    logger.info("order reconciled", extra={**reply, "execution": status, "error": detail.get("error")})
    return reply
