"""EventBridge consumers of the order events: OrderProcessed (confirmation, analytics, stock watch)
and OrderFailed (the user is told why). Each gets the standard EventBridge envelope.

Errors are logged with the event id and raised: Lambda retries the asynchronous invocation, and
the analytics are idempotent per event id, so a retry never counts an order twice.
"""

from __future__ import annotations

import app.coldstart  # noqa: F401  # isort: skip - first: the GC pauses for the init (app/coldstart.py)
from collections.abc import Callable
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from app.domain.errors import ValidationError
from app.domain.events import EVENT_SOURCE, Contract, OrderFailed, OrderProcessed
from app.observability import entrypoint, logger
from workers.common import services


class Envelope(BaseModel):
    """The parts of the EventBridge envelope the consumers use."""

    model_config = ConfigDict(populate_by_name=True)
    id: str = Field(min_length=1)
    time: datetime
    source: str
    detail_type: str = Field(alias="detail-type")
    detail: dict[str, Any]


def consume[T: Contract](
    event: Any, contract: type[T], handle: Callable[[Envelope, T], dict[str, Any]]
) -> dict[str, Any]:
    """Parse the envelope and its detail, run `handle`; log any failure with the event id, then raise."""
    event_id = event.get("id") if isinstance(event, dict) else None
    logger.set_correlation_id(event_id)
    try:
        envelope = Envelope.model_validate(event)
        if (envelope.source, envelope.detail_type) != (EVENT_SOURCE, contract.DETAIL_TYPE):
            raise ValidationError(f"expected {EVENT_SOURCE}/{contract.DETAIL_TYPE}, got {envelope.detail_type}")
        result = handle(envelope, contract.model_validate(envelope.detail))
    except Exception as exc:
        logger.exception(
            f"{contract.DETAIL_TYPE} consumer failed",
            extra={"eventId": event_id, "error": type(exc).__name__},
        )
        raise
    # DEBUG: a line per order is a line per order billed (LogLevel=DEBUG shows it); a failure logs with its trace.
    logger.debug(f"{contract.DETAIL_TYPE} consumed", extra={"eventId": event_id, **result})
    return result


def _processed(envelope: Envelope, event: OrderProcessed) -> dict[str, Any]:
    outcome = services().order_events.on_processed(envelope.time, event)
    return {"orderId": event.orderId, "counted": outcome.counted, "lowStock": list(outcome.low_stock)}


def _failed(envelope: Envelope, event: OrderFailed) -> dict[str, Any]:
    services().order_events.on_failed(event)
    return {"orderId": event.orderId, "reason": event.reason}


@entrypoint
def order_processed(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """OrderProcessed rule target: count the sale, watch the stock, confirm to the user."""
    return consume(event, OrderProcessed, _processed)


@entrypoint
def order_failed(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """OrderFailed rule target: notify the user with the reason."""
    return consume(event, OrderFailed, _failed)
