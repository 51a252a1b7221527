"""What the order workers share: their services, the order id parser and transient-error mapping."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any

from app.bootstrap import Container
from app.domain.errors import DomainError, ServiceUnavailable, ValidationError, as_workflow_error
from app.observability import logger
from app.settings import get_settings

_ORDER_ID = re.compile(r"^[A-Za-z0-9-]{1,80}$")
Handler = Callable[[dict[str, Any], Any], Any]


@functools.lru_cache
def services() -> Container:
    """The process-wide services (reused by warm invocations)."""
    return Container(get_settings())


def order_id_of(payload: Any) -> str:
    """The `orderId` of a message or state input; ValidationError if missing or malformed."""
    order_id = payload.get("orderId") if isinstance(payload, dict) else None
    if not isinstance(order_id, str) or not _ORDER_ID.fullmatch(order_id):
        raise ValidationError("payload has no valid orderId")
    return order_id


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
        except DomainError as exc:
            named = as_workflow_error(exc)
            if named is exc:
                raise
            raise named from exc
        except Exception as exc:
            # Imported on the error path only: botocore's retry checkers stay off the task's cold start.
            from app.adapters.aws_errors import is_transient

            if is_transient(exc):
                logger.warning("transient error", extra={"error": type(exc).__name__, "task": handler.__name__})
                raise ServiceUnavailable(str(exc)) from exc
            raise

    return wrapped
