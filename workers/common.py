"""What the order workers share: their services, the order id parser and transient-error mapping."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any

from app.bootstrap_orders import WorkerContainer
from app.domain.errors import ServiceUnavailable, ValidationError
from app.observability import logger
from app.settings import get_settings

_ORDER_ID = re.compile(r"^[A-Za-z0-9-]{1,80}$")
_TRANSIENT_CODES = frozenset(
    {
        "ThrottlingException",
        "Throttling",
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "TransactionConflictException",
        "InternalServerError",
        "ServiceUnavailable",
    }
)
Handler = Callable[[dict[str, Any], Any], Any]


@functools.lru_cache
def services() -> WorkerContainer:
    """The process-wide services (reused by warm invocations)."""
    return WorkerContainer(get_settings())


def order_id_of(payload: Any) -> str:
    """The `orderId` of a message or state input; ValidationError if missing or malformed."""
    order_id = payload.get("orderId") if isinstance(payload, dict) else None
    if not isinstance(order_id, str) or not _ORDER_ID.match(order_id):
        raise ValidationError("payload has no valid orderId")
    return order_id


def is_transient(exc: Exception) -> bool:
    """Throttling, transaction conflicts and unreachable endpoints: worth retrying."""
    from botocore.exceptions import ClientError, ConnectionError, ReadTimeoutError

    if isinstance(exc, ConnectionError | ReadTimeoutError):
        return True
    return isinstance(exc, ClientError) and exc.response.get("Error", {}).get("Code") in _TRANSIENT_CODES


def task(handler: Handler) -> Handler:
    """Log with the order id as correlation id; raise transient AWS errors as ServiceUnavailable.

    Step Functions matches the exception class name: ServiceUnavailable is in every Retry.
    """

    @functools.wraps(handler)
    def wrapped(event: dict[str, Any], context: Any) -> Any:
        logger.set_correlation_id(event.get("orderId") if isinstance(event, dict) else None)
        try:
            return handler(event, context)
        except ServiceUnavailable:
            raise
        except Exception as exc:
            if is_transient(exc):
                logger.warning("transient error", extra={"error": type(exc).__name__, "task": handler.__name__})
                raise ServiceUnavailable(str(exc)) from exc
            raise

    return wrapped
