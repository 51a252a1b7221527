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


def allowed_methods(request: Request) -> list[str]:
    """Every method that some route of the request's path accepts (asked of the router, route by route)."""
    routes = request.app.router.routes
    found = [
        method
        for method in _METHODS
        if any(route.matches({**request.scope, "method": method})[0] is Match.FULL for route in routes)
    ]
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


PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "RFC 9457 problem details; `errors` lists each bad field.",
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string"},
        "code": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "message"],
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
            },
        },
    },
}


def _problem_response(description: str) -> dict[str, Any]:
    return {"description": description, "content": {PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}}}


def error_replies(**described: str) -> dict[int | str, dict[str, Any]]:
    """Error replies a route declares, e.g. error_replies(r412="If-Match is stale or malformed"), for `responses=`."""
    return {int(code.removeprefix("r")): {"description": text} for code, text in described.items()}


def document(
    app: FastAPI,
    limits: dict[str, dict[str, int]] | None = None,
    bearer: tuple[dict[str, str], frozenset[tuple[str, str]]] | None = None,
) -> None:
    """Declare every error reply in the OpenAPI document as problem+json (FastAPI's default 422 is not ours).

    `limits` adds deployment-time bounds to request schemas: {"Schema.property": {"maximum": n}};
    `bearer` is the security scheme every operation requires but the (path, method) ones given.
    """
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        spec = build()
        schemas = spec.setdefault("components", {}).setdefault("schemas", {})
        schemas.pop("HTTPValidationError", None)
        schemas.pop("ValidationError", None)
        schemas["Problem"] = PROBLEM_SCHEMA
        for target, bounds in (limits or {}).items():
            schema, _, prop = target.partition(".")
            schemas[schema]["properties"][prop].update(bounds)
        if bearer is not None:
            spec["components"].setdefault("securitySchemes", {})["HTTPBearer"] = bearer[0]
        for path, path_item in spec.get("paths", {}).items():
            for method, operation in path_item.items():
                if bearer is not None and (path, method) not in bearer[1]:
                    operation["security"] = [{"HTTPBearer": []}]
                responses = operation.setdefault("responses", {})
                for code, response in list(responses.items()):
                    if code[0] in "45":
                        description = response.get("description", "")
                        if description == "Validation Error":  # FastAPI's own 422, replaced by ours
                            description = "Validation failed"
                        responses[code] = _problem_response(description)
                responses.setdefault("default", _problem_response("An error"))
        app.openapi_schema = spec
        return spec

    app.openapi = openapi  # type: ignore[method-assign]


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
