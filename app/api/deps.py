"""FastAPI dependencies: the container, its services, and the caller."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import Depends, Header, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app.bootstrap import Container, get_container
from app.domain.auth import Principal, Unauthenticated
from app.domain.errors import PreconditionFailed
from app.services.tokens import TokenVerifier
from app.services.users import UserService


async def container() -> Container:
    """The process-wide container (overridden in tests).

    Cheap dependencies are `async def`: a plain def would cost a thread-pool hop on every request.
    """
    return get_container()


async def users_service(c: Annotated[Container, Depends(container)]) -> UserService:
    """The user use cases."""
    return c.users


# auto_error=False: a missing or non-Bearer Authorization header becomes our own 401 problem, not FastAPI's 403.
bearer = HTTPBearer(auto_error=False, description="A JWT bearer token (locally: `make token`).")


async def token_verifier(c: Annotated[Container, Depends(container)]) -> TokenVerifier:
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


def etag(version: int) -> str:
    """The ETag of a resource version."""
    return f'"{version}"'
