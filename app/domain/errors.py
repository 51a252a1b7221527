"""Domain errors. Class names double as Step Functions error names for Retry and Catch."""

from __future__ import annotations


class DomainError(Exception):
    """Base class of every error the domain raises on purpose."""

    title = "Domain error"

    def __init__(self, detail: str = "") -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title


class ValidationError(DomainError):
    """Input breaks a business rule."""

    title = "Validation failed"

    def __init__(self, detail: str = "", errors: list[dict[str, str]] | None = None) -> None:
        super().__init__(detail)
        self.errors = errors or []


class InvalidCursor(DomainError):
    """A pagination cursor was forged, corrupted or came from another listing."""

    title = "Invalid cursor"


class NotFound(DomainError):
    """The resource does not exist."""

    title = "Not found"


class Conflict(DomainError):
    """The request conflicts with the current state."""

    title = "Conflict"


class EmailAlreadyExists(Conflict):
    """Another user already holds this email address."""

    title = "Email already exists"


class PreconditionFailed(DomainError):
    """The caller's version of the resource is stale."""

    title = "Precondition failed"


class InsufficientInventory(DomainError):
    """Not enough stock to reserve an order's lines."""

    title = "Insufficient inventory"


class SoldOut(Conflict):
    """A product of the order is sold out: nothing available, nothing reserved that could come back."""

    title = "Sold out"


class PaymentFailed(DomainError):
    """The payment gateway declined or failed the charge."""

    title = "Payment failed"


class ServiceUnavailable(DomainError):
    """A backing service cannot be reached right now."""

    title = "Service unavailable"


class OrderCancelled(Conflict):
    """The order was cancelled; the workflow stops and gives back what it holds."""

    title = "Order cancelled"


class IllegalTransition(Conflict):
    """The order's status does not allow this change (e.g. cancelling a paid order)."""

    title = "Illegal status transition"


class IdempotencyKeyReused(ValidationError):
    """An Idempotency-Key was sent again with a different request body."""

    title = "Idempotency key reused with a different request"


class CommitFailed(DomainError):
    """The reservation could not be committed; the payment must be compensated."""

    title = "Commit failed"


# The error names the order workflow's Retry and Catch match (infra/statemachine/order_workflow.asl.json).
WORKFLOW_ERRORS: tuple[type[DomainError], ...] = (
    ValidationError,
    InsufficientInventory,
    PaymentFailed,
    OrderCancelled,
    ServiceUnavailable,
)


def as_workflow_error(exc: DomainError) -> DomainError:
    """The error a workflow task raises: Step Functions matches names exactly, so a subclass (for example
    IdempotencyKeyReused) is raised as the nearest class the definition names (ValidationError)."""
    named = next((cls for cls in type(exc).__mro__ if cls in WORKFLOW_ERRORS), None)
    if named is None or named is type(exc):
        return exc
    return named(exc.detail)
