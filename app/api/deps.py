"""What a route reads from its request: the container, each use case it builds, the caller, and headers."""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING, Annotated, NamedTuple

from fastapi import Header, Request

from app.api.gateway_auth import gateway_principal
from app.bootstrap import Container, get_container
from app.domain.auth import Principal, Unauthenticated
from app.domain.errors import PreconditionFailed
from app.settings import Settings

if TYPE_CHECKING:
    # For the annotations only: the container imports each service when it first builds it, so a cold start
    # loads the one its request uses.
    from app.services.catalog import CatalogService
    from app.services.catalog_import import CatalogImportService
    from app.services.order_events import AnalyticsQueries
    from app.services.orders import OrderService
    from app.services.users import UserService


class Wiring(NamedTuple):
    """What `create_app` was built with: its settings, and the container that replaces the process-wide one."""

    settings: Settings
    container: Container | None


def container_of(request: Request) -> Container:
    """The app's container: the one `create_app` was given (tests), else the process-wide one."""
    given = request.app.wiring.container
    return given if given is not None else get_container()


# The use cases and the caller are read by the routes from the request, not given as FastAPI dependencies:
# FastAPI solves each dependency as a tree of its own on every request (four parameter passes and a cache
# key each), and two of them cost 18 µs of a 175 µs GET (docs/performance.md). A route's first line asks
# for its caller; problems.py asks too before it answers a 422, so an anonymous request is still a 401.


def users(request: Request) -> UserService:
    """The user use cases."""
    return container_of(request).users


def catalog(request: Request) -> CatalogService:
    """The catalog use cases."""
    return container_of(request).catalog


def orders(request: Request) -> OrderService:
    """The order use cases."""
    return container_of(request).orders


def imports(request: Request) -> CatalogImportService:
    """The catalog import use cases."""
    return container_of(request).catalog_imports


def analytics(request: Request) -> AnalyticsQueries:
    """The analytics reads."""
    return container_of(request).analytics


# The OpenAPI security scheme of every route but the public ones (a test checks it against what each route
# answers without a token). The header is read in `caller`: an HTTPBearer dependency cost 18 µs
# per request (docs/performance.md).
BEARER_SCHEME = {"type": "http", "scheme": "bearer", "description": "A JWT bearer token (locally: `make token`)."}
PUBLIC_OPERATIONS = frozenset({("/health", "get")})


def caller(request: Request) -> Principal:
    """The authenticated caller; 401 without a valid bearer token.

    Behind API Gateway (`trust_gateway_authorizer`), the caller its authorizer verified; elsewhere (uvicorn,
    tests) the token is verified here. The secret or JWKS is fetched at most once per cache period.
    """
    # Counted in the raw ASGI headers (lower-case names): building Starlette's Headers cost 2 µs per request.
    if [name for name, _ in request.scope["headers"]].count(b"authorization") > 1:
        # Proxies and frameworks disagree on which of two headers wins: accept neither.
        raise Unauthenticated("send exactly one Authorization header")
    settings: Settings = request.app.wiring.settings
    if settings.trust_gateway_authorizer:
        principal = gateway_principal(request.scope, time.time(), settings.jwt_leeway_seconds)
        if principal is not None:
            return principal
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("a bearer token is required")
    return container_of(request).tokens.verify(token.strip())


IF_MATCH_PATTERN = r'^(?:W/)?"?([0-9]{1,18})"?$'
IF_MATCH = re.compile(IF_MATCH_PATTERN, re.ASCII)
IfMatch = Annotated[
    str | None,
    Header(
        description='The ETag of the version being changed, e.g. `"3"` (or `*`); any other value is 412.',
        json_schema_extra={"pattern": r'^(\*|(W/)?"?[0-9]{1,18}"?)$'},
    ),
]


def if_match_version(if_match: str | None) -> int | None:
    """The version an If-Match header names; None when absent or '*'.

    Routes read it after their caller, so that an anonymous request is 401 before its If-Match is judged.
    """
    if if_match is None or if_match.strip() == "*":
        return None
    # ASCII digits only, and a bounded count: str.isdigit() accepts '²' and int() refuses it.
    match = IF_MATCH.fullmatch(if_match.strip())
    if match is None:
        raise PreconditionFailed('If-Match must be an ETag returned by this API, e.g. "3"')
    return int(match.group(1))


IdempotencyKey = Annotated[
    str | None, Header(alias="Idempotency-Key", pattern=r"^[A-Za-z0-9._:-]{1,128}$", description="Makes retries safe")
]


def etag(version: int) -> str:
    """The ETag of a resource version."""
    return f'"{version}"'
