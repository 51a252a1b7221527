"""The OpenAPI document tells the whole truth: every status an operation answers, every header it sends.

Routes declare what is theirs (an operation's own errors and success headers, `error_replies` and
`replies_with`); `document` adds what every operation of a kind shares (401 and 403 where a token is needed,
404 where the path names a resource, 400/413/415/422 where a body is read, 503 everywhere) and states each
error as problem+json, so that a client generated from the document reads every reply it can get.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from app.api.problems import PROBLEM

# Every header the API sends beyond the transport's own (content-type, content-length, date, server).
HEADERS: dict[str, dict[str, Any]] = {
    "ETag": {"description": "The user's version, for `If-Match`", "schema": {"type": "string"}},
    "Location": {"description": "The path of the resource created or accepted", "schema": {"type": "string"}},
    "Idempotent-Replayed": {
        "description": "`true` when this is the reply to an earlier request with the same Idempotency-Key",
        "schema": {"type": "string", "enum": ["true"]},
    },
    "WWW-Authenticate": {"description": "The bearer challenge (RFC 6750)", "schema": {"type": "string"}},
    "Retry-After": {"description": "Seconds to wait before retrying", "schema": {"type": "integer", "minimum": 0}},
    "Allow": {"description": "The methods this path serves", "schema": {"type": "string"}},
    "X-Correlation-Id": {"description": "The request's id in every log line it wrote", "schema": {"type": "string"}},
    "Cache-Control": {
        "description": "`no-store` on every reply to an authenticated request",
        "schema": {"type": "string"},
    },
    "X-Content-Type-Options": {"description": "Always `nosniff`", "schema": {"type": "string"}},
}
# Sent on every reply by the middleware.
_ALWAYS = ("X-Correlation-Id", "X-Content-Type-Options")
_AUTHENTICATED = ("Cache-Control",)
_SHARED_ERRORS: dict[int, tuple[str, tuple[str, ...]]] = {
    400: ("The body is not valid JSON, or a cursor is not one this API issued", ()),
    401: ("No bearer token, or one that is invalid or expired", ("WWW-Authenticate",)),
    403: ("The caller's role, or the resource's owner, does not allow this", ()),
    404: ("No such resource", ()),
    413: ("The body is over this deployment's limit", ()),
    415: ("The body is not application/json", ()),
    422: ("A parameter or a field of the body is not valid; `errors` names each", ()),
    503: ("A backing service is unavailable or throttled; retry after Retry-After", ("Retry-After",)),
}
_BODY_ERRORS = (400, 413, 415, 422)

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


def headers_of(*names: str) -> dict[str, Any]:
    """The document's `headers` object for these header names."""
    return {name: HEADERS[name] for name in names}


def error_replies(**described: str) -> dict[int | str, dict[str, Any]]:
    """Error replies a route declares, e.g. error_replies(r412="If-Match is stale or malformed"), for `responses=`."""
    return {int(code.removeprefix("r")): {"description": text} for code, text in described.items()}


def replies_with(status: int, *names: str) -> dict[int | str, dict[str, Any]]:
    """The headers a route's success reply carries, for `responses=`."""
    return {status: {"headers": headers_of(*names)}}


def _problem_response(description: str, headers: tuple[str, ...] = ()) -> dict[str, Any]:
    reply: dict[str, Any] = {
        "description": description,
        "content": {PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }
    if headers:
        reply["headers"] = headers_of(*headers)
    return reply


def _is_ours(response: dict[str, Any]) -> bool:
    """A reply a route described with its own body (GET /health's 503), which is left as it is."""
    content = response.get("content") or {}
    return bool(content) and "HTTPValidationError" not in str(content)


def _shared(path: str, operation: dict[str, Any], authenticated: bool) -> list[int]:
    """The statuses every operation of this kind can answer."""
    statuses = [503]
    if authenticated:
        statuses += [401, 403]
    if "{" in path:
        statuses.append(404)
    if "requestBody" in operation:
        statuses += _BODY_ERRORS
    if operation.get("parameters"):
        statuses += [400, 422] if any(p["name"] == "cursor" for p in operation["parameters"]) else [422]
    return statuses


def _no_null_parameters(operation: dict[str, Any]) -> None:
    """An optional parameter is left out, never sent as null: its schema is the non-null one."""
    for parameter in operation.get("parameters", []):
        schema = parameter.get("schema", {})
        kinds = [k for k in schema.pop("anyOf", []) if k.get("type") != "null"]
        if kinds:
            schema.update(kinds[0])
        if schema.get("default", 0) is None:
            del schema["default"]


def _complete(path: str, operation: dict[str, Any], authenticated: bool) -> None:
    """Declare every status and header of one operation; each error as problem+json."""
    _no_null_parameters(operation)
    responses = operation.setdefault("responses", {})
    for status in _shared(path, operation, authenticated):
        if str(status) not in responses:
            description, _ = _SHARED_ERRORS[status]
            responses[str(status)] = {"description": description}
    responses.setdefault("default", {"description": "An unexpected error"})
    for code, response in list(responses.items()):
        extra = _ALWAYS + (_AUTHENTICATED if authenticated else ())
        if (code[0] in "45" or code == "default") and not _is_ours(response):
            description = response.get("description", "")
            if description == "Validation Error":  # FastAPI's own 422, replaced by ours
                description = _SHARED_ERRORS[422][0]
            own = _SHARED_ERRORS.get(int(code), ("", ()))[1] if code != "default" else ()
            response = {**response, **_problem_response(description, own)}
            if code == "405":
                extra += ("Allow",)
        response["headers"] = {**response.get("headers", {}), **headers_of(*extra)}
        responses[code] = response


def document(
    app: FastAPI,
    limits: dict[str, dict[str, int]] | None = None,
    bearer: tuple[dict[str, str], frozenset[tuple[str, str]]] | None = None,
) -> None:
    """Complete the app's OpenAPI document: every status, header and problem reply (built once, on first use).

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
                authenticated = bearer is not None and (path, method) not in bearer[1]
                if authenticated:
                    operation["security"] = [{"HTTPBearer": []}]
                _complete(path, operation, authenticated)
        app.openapi_schema = spec
        return spec

    app.openapi = openapi  # type: ignore[method-assign]
