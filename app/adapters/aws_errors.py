"""The one place that classifies AWS errors: codes, conditional-check failures, and what is transient.

"Transient" builds on botocore's own standard-retry checkers (throttling codes, 5xx, connection errors),
plus DynamoDB's transaction conflicts: what is worth another attempt after the SDK's own retries.
"""

from __future__ import annotations

from botocore.exceptions import ClientError, ReadTimeoutError
from botocore.retries.standard import RetryContext, ThrottledRetryableChecker, TransientRetryableChecker

CONDITION_FAILED = "ConditionalCheckFailed"  # a transaction's per-item cancellation reason
CONDITIONAL_CHECK_FAILED = "ConditionalCheckFailedException"  # a single write's error code
TRANSACTION_CANCELLED = "TransactionCanceledException"
# DynamoDB transaction cancellation reasons that a later attempt can clear.
_TRANSIENT_REASONS = frozenset({"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"})
_TRANSIENT_CODES = frozenset({"TransactionConflictException", "InternalServerError", "ServiceUnavailable"})
_THROTTLED = ThrottledRetryableChecker()
_TRANSIENT = TransientRetryableChecker()


def error_code(exc: BaseException) -> str:
    """The AWS error code of a client error ('' for anything else)."""
    if not isinstance(exc, ClientError):
        return ""
    return str(exc.response.get("Error", {}).get("Code", ""))


def cancellation_codes(exc: ClientError) -> list[str]:
    """The per-item reason codes of a cancelled transaction ('None' where it passed)."""
    return [str(r.get("Code", "None")) for r in exc.response.get("CancellationReasons", [])]


def is_condition_failed(exc: BaseException) -> bool:
    """A single conditional write whose condition did not hold."""
    return error_code(exc) == CONDITIONAL_CHECK_FAILED


def is_throttled(exc: BaseException) -> bool:
    """AWS asked us to slow down (botocore's list of throttling codes)."""
    return isinstance(exc, ClientError) and _THROTTLED.is_retryable(RetryContext(1, parsed_response=exc.response))


def is_transient(exc: BaseException) -> bool:
    """Worth another attempt: throttling, a 5xx, an unreachable endpoint, a transaction conflict."""
    if isinstance(exc, ReadTimeoutError):
        return True
    if isinstance(exc, Exception) and _TRANSIENT.is_retryable(RetryContext(1, caught_exception=exc)):
        return True
    if not isinstance(exc, ClientError):
        return False
    status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
    return (
        is_throttled(exc)
        or error_code(exc) in _TRANSIENT_CODES
        or status in (500, 502, 503, 504)
        or any(code in _TRANSIENT_REASONS for code in cancellation_codes(exc))
    )
