"""Every FastAPI dependency: the container, each use case it builds, the caller, and request headers."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import Depends, Header, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app.bootstrap import Container, get_container
from app.domain.auth import Principal, Unauthenticated
from app.domain.errors import PreconditionFailed
from app.services.catalog import CatalogService
from app.services.catalog_import import CatalogImportService
from app.services.order_events import AnalyticsQueries
from app.services.orders import OrderService
from app.services.tokens import TokenVerifier
from app.services.users import UserService


async def container() -> Container:
    """The process-wide container (overridden in tests).

    Cheap dependencies are `async def`: a plain def would cost a thread-pool hop on every request.
    """
    return get_container()


ContainerDep = Annotated[Container, Depends(container)]


async def users_service(c: ContainerDep) -> UserService:
    """The user use cases."""
    return c.users


async def catalog_service(c: ContainerDep) -> CatalogService:
    """The catalog use cases."""
    return c.catalog


async def orders_service(c: ContainerDep) -> OrderService:
    """The order use cases."""
    return c.orders


async def import_service(c: ContainerDep) -> CatalogImportService:
    """The catalog import use cases."""
    return c.catalog_imports


async def analytics_queries(c: ContainerDep) -> AnalyticsQueries:
    """The analytics reads."""
    return c.analytics


Users = Annotated[UserService, Depends(users_service)]
Catalog = Annotated[CatalogService, Depends(catalog_service)]
Orders = Annotated[OrderService, Depends(orders_service)]
Imports = Annotated[CatalogImportService, Depends(import_service)]
Analytics = Annotated[AnalyticsQueries, Depends(analytics_queries)]


# auto_error=False: a missing or non-Bearer Authorization header becomes our own 401 problem, not FastAPI's 403.
bearer = HTTPBearer(auto_error=False, description="A JWT bearer token (locally: `make token`).")


async def token_verifier(c: ContainerDep) -> TokenVerifier:
    """The bearer token verifier."""
    return c.tokens


async def current_principal(
    request: Request,
    verifier: Annotated[TokenVerifier, Depends(token_verifier)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    """The authenticated caller; 401 without a valid bearer token.

    Async like the endpoints, which call AWS in the event loop too: the secret or JWKS is fetched at most
    once per cache period, while a plain def cost a new thread-pool thread on every Lambda invocation
    (Mangum runs each event on a fresh event loop), about 1 ms warm (see docs/performance.md).
    """
    if len(request.headers.getlist("authorization")) > 1:
        # Proxies and frameworks disagree on which of two headers wins: accept neither.
        raise Unauthenticated("send exactly one Authorization header")
    if credentials is None or not credentials.credentials:
        raise Unauthenticated("a bearer token is required")
    return verifier.verify(credentials.credentials)


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
