"""Every FastAPI dependency: the container, each use case it builds, the caller, and request headers."""

from __future__ import annotations

import re
import time
from typing import Annotated

from fastapi import Depends, Header, Request

from app.api.gateway_auth import gateway_principal
from app.bootstrap import Container, get_container
from app.domain.auth import Principal, Unauthenticated
from app.domain.errors import PreconditionFailed
from app.services.catalog import CatalogService
from app.services.catalog_import import CatalogImportService
from app.services.order_events import AnalyticsQueries
from app.services.orders import OrderService
from app.services.users import UserService
from app.settings import Settings


def container_of(request: Request) -> Container:
    """The app's container: the one `create_app` was given (tests), else the process-wide one."""
    given: Container | None = request.app.state.container
    return given if given is not None else get_container()


# Each dependency reads the container itself rather than depending on a `container` dependency: FastAPI
# resolves every level of a dependency tree on every request, and two levels cost more than the route.
# They are `async def`: a plain def would cost a thread-pool hop on every request.


async def container(request: Request) -> Container:
    """The container (for routes that need more than one use case, such as /health)."""
    return container_of(request)


ContainerDep = Annotated[Container, Depends(container)]


async def users_service(request: Request) -> UserService:
    """The user use cases."""
    return container_of(request).users


async def catalog_service(request: Request) -> CatalogService:
    """The catalog use cases."""
    return container_of(request).catalog


async def orders_service(request: Request) -> OrderService:
    """The order use cases."""
    return container_of(request).orders


async def import_service(request: Request) -> CatalogImportService:
    """The catalog import use cases."""
    return container_of(request).catalog_imports


async def analytics_queries(request: Request) -> AnalyticsQueries:
    """The analytics reads."""
    return container_of(request).analytics


Users = Annotated[UserService, Depends(users_service)]
Catalog = Annotated[CatalogService, Depends(catalog_service)]
Orders = Annotated[OrderService, Depends(orders_service)]
Imports = Annotated[CatalogImportService, Depends(import_service)]
Analytics = Annotated[AnalyticsQueries, Depends(analytics_queries)]


# The OpenAPI security scheme of every route but the public ones (a test checks it against what each route
# answers without a token). The header is read in current_principal: an HTTPBearer dependency cost 18 µs
# per request (docs/performance.md).
BEARER_SCHEME = {"type": "http", "scheme": "bearer", "description": "A JWT bearer token (locally: `make token`)."}
PUBLIC_OPERATIONS = frozenset({("/health", "get")})


async def current_principal(request: Request) -> Principal:
    """The authenticated caller; 401 without a valid bearer token.

    Behind API Gateway (`trust_gateway_authorizer`), the caller its authorizer verified; elsewhere (uvicorn,
    tests) the token is verified here. Async like the endpoints: the secret or JWKS is fetched at most once
    per cache period, while a plain def cost a thread-pool hop on every Lambda invocation.
    """
    if len(request.headers.getlist("authorization")) > 1:
        # Proxies and frameworks disagree on which of two headers wins: accept neither.
        raise Unauthenticated("send exactly one Authorization header")
    settings: Settings = request.app.state.settings
    if settings.trust_gateway_authorizer:
        principal = gateway_principal(request.scope, time.time(), settings.jwt_leeway_seconds)
        if principal is not None:
            return principal
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("a bearer token is required")
    return container_of(request).tokens.verify(token.strip())


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]

IF_MATCH_PATTERN = r'^(?:W/)?"?([0-9]{1,18})"?$'
IF_MATCH = re.compile(IF_MATCH_PATTERN, re.ASCII)
IfMatch = Annotated[
    str | None,
    Header(
        description='The ETag of the version being changed, e.g. `"3"` (or `*`); any other value is 412.',
        json_schema_extra={"pattern": r'^(\*|(W/)?"?[0-9]{1,18}"?)$'},
    ),
]


async def if_match_version(caller: CurrentPrincipal, if_match: IfMatch = None) -> int | None:
    """The version an If-Match header names; None when absent or '*'.

    Depends on the caller so that an anonymous request is 401 before its If-Match is judged (not 412).
    """
    if if_match is None or if_match.strip() == "*":
        return None
    # ASCII digits only, and a bounded count: str.isdigit() accepts '²' and int() refuses it.
    match = IF_MATCH.fullmatch(if_match.strip())
    if match is None:
        raise PreconditionFailed('If-Match must be an ETag returned by this API, e.g. "3"')
    return int(match.group(1))


Version = Annotated[int | None, Depends(if_match_version)]
IdempotencyKey = Annotated[
    str | None, Header(alias="Idempotency-Key", pattern=r"^[A-Za-z0-9._:-]{1,128}$", description="Makes retries safe")
]


def etag(version: int) -> str:
    """The ETag of a resource version."""
    return f'"{version}"'
