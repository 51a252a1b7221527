"""RFC 9457 problem+json responses; the one place where errors become HTTP."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse

from app.domain import errors
from app.observability import logger

PROBLEM = "application/problem+json"

_STATUS: list[tuple[type[errors.DomainError], int]] = [
    (errors.InvalidCursor, 400),
    (errors.NotFound, 404),
    (errors.Conflict, 409),
    (errors.PreconditionFailed, 412),
    (errors.ValidationError, 422),
    (errors.InsufficientInventory, 409),
    (errors.PaymentFailed, 402),
    (errors.ServiceUnavailable, 503),
]


def problem(status: int, detail: str, headers: dict[str, str] | None = None, **extra: Any) -> JSONResponse:
    """A problem+json response."""
    title = HTTPStatus(status).phrase
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def _status_of(exc: errors.DomainError) -> int:
    return next((status for kind, status in _STATUS if isinstance(exc, kind)), 400)


async def _domain(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, errors.DomainError)
    extra: dict[str, Any] = {"code": type(exc).__name__}
    if isinstance(exc, errors.ValidationError) and exc.errors:
        extra["errors"] = exc.errors
    headers = {"Retry-After": "5"} if isinstance(exc, errors.ServiceUnavailable) else None
    return problem(_status_of(exc), exc.detail, headers=headers, **extra)


async def _validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    if any(e.get("type") == "json_invalid" for e in exc.errors()):
        return problem(400, "request body is not valid JSON", errors=[{"field": "body", "message": "invalid JSON"}])
    issues = [
        {"field": ".".join(str(p) for p in e.get("loc", ()) if p != "body") or "body", "message": str(e.get("msg"))}
        for e in exc.errors()
    ]
    return problem(422, "request validation failed", errors=issues)


async def _http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    return problem(exc.status_code, str(exc.detail), headers=dict(exc.headers or {}))


def unexpected(exc: Exception) -> JSONResponse:
    """The reply to an exception nothing else handled: 503 if AWS is unreachable, else 500."""
    if _is_aws_unreachable(exc):
        logger.warning("backing service unreachable", extra={"error": type(exc).__name__})
        return problem(503, "a backing service is unavailable, retry later", headers={"Retry-After": "5"})
    logger.exception("unhandled error")
    return problem(500, "an internal error occurred")


def _is_aws_unreachable(exc: Exception) -> bool:
    # Imported lazily so that the error path, not the cold start, pays for botocore.
    from botocore.exceptions import ClientError, ConnectionError, ReadTimeoutError

    if isinstance(exc, ConnectionError | ReadTimeoutError):
        return True
    code = exc.response.get("Error", {}).get("Code", "") if isinstance(exc, ClientError) else ""
    return code in {"ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded"}


def install(app: FastAPI) -> None:
    """Register every error handler."""
    app.add_exception_handler(errors.DomainError, _domain)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StarletteHTTPException, _http)
