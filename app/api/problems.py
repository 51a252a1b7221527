"""RFC 9457 problem+json responses; the one place where errors become HTTP."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse
from starlette.routing import Match
from starlette.types import Scope

from app.domain import errors
from app.domain.auth import Forbidden, Unauthenticated
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


async def _unauthenticated(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, Unauthenticated)
    challenge = {"WWW-Authenticate": 'Bearer error="invalid_token"'}
    return problem(401, exc.detail, headers=challenge, code="Unauthenticated")


async def _forbidden(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, Forbidden)
    return problem(403, exc.detail, code="Forbidden")


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
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        # Starlette names the methods of the first route whose path matched; a path has several routes.
        headers["Allow"] = ", ".join(allowed_methods(request))
    return problem(exc.status_code, str(exc.detail), headers=headers)


_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")


def serves(app: Any, scope: Scope, method: str) -> bool:
    """Whether some route of the app serves the scope's path with this method (asked route by route)."""
    probe = {**scope, "method": method}
    return any(route.matches(probe)[0] is Match.FULL for route in app.router.routes)


def allowed_methods(request: Request) -> list[str]:
    """Every method that some route of the request's path accepts."""
    found = [method for method in _METHODS if serves(request.app, request.scope, method)]
    if "GET" in found and "HEAD" not in found:
        found.insert(found.index("GET") + 1, "HEAD")  # the middleware serves HEAD wherever GET is
    return found


def unexpected(exc: Exception) -> JSONResponse:
    """The reply to an exception nothing else handled: 503 if AWS is unreachable, else 500."""
    if _is_aws_unreachable(exc):
        logger.warning("backing service unreachable", extra={"error": type(exc).__name__})
        return problem(503, "a backing service is unavailable, retry later", headers={"Retry-After": "5"})
    logger.exception("unhandled error")
    return problem(500, "an internal error occurred")


def _is_aws_unreachable(exc: Exception) -> bool:
    # Imported lazily so that the error path, not the cold start, pays for botocore.
    from app.adapters.aws_errors import is_transient

    return is_transient(exc)


def _authenticated_first(
    authenticate: Callable[[Request], object], public: Collection[tuple[str, str]]
) -> Callable[[Request, Exception], Awaitable[JSONResponse]]:
    """The 422 handler, which first answers 401 or 503 where the route needs a caller it cannot have."""
    # FastAPI validates parameters and body before a route runs, and routes ask for their caller on their
    # first line: without this, an anonymous request with a bad body would learn its validation errors.

    async def validation(request: Request, exc: Exception) -> JSONResponse:
        route = getattr(request.scope.get("route"), "path", None)
        if (route, request.method.lower()) not in public:
            try:
                authenticate(request)
            except Unauthenticated as denied:
                return await _unauthenticated(request, denied)
            except errors.DomainError as failed:  # the signing key could not be read
                return await _domain(request, failed)
        return await _validation(request, exc)

    return validation


def install(app: FastAPI, authenticate: Callable[[Request], object], public: Collection[tuple[str, str]] = ()) -> None:
    """Register every error handler; `authenticate` is asked before a 422 on all but the `public` routes."""
    app.add_exception_handler(errors.DomainError, _domain)
    app.add_exception_handler(Unauthenticated, _unauthenticated)
    app.add_exception_handler(Forbidden, _forbidden)
    app.add_exception_handler(RequestValidationError, _authenticated_first(authenticate, public))
    app.add_exception_handler(StarletteHTTPException, _http)
