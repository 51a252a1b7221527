"""The /users router: thin handlers that parse, call one service, and shape the reply.

Every route needs a bearer token. Users act on their own record (id = token `sub`); admins on any.
Listing all users is for admins; a user may look up only their own email.
"""

from __future__ import annotations

import re
from types import TracebackType
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from app.api import deps
from app.api.deps import IfMatch, etag
from app.api.openapi import error_replies, replies_with
from app.api.replies import reply
from app.api.schemas.common import ID_PATTERN, Cursor, Email, Limit
from app.api.schemas.users import UserCreate, UserList, UserOut, UserPatch
from app.domain.auth import Principal, Unauthenticated
from app.domain.errors import NotFound, ValidationError

router = APIRouter(prefix="/users", tags=["users"])
UserId = Annotated[str, Path(pattern=ID_PATTERN, description="User id")]


class owner_route:
    """Owner-or-admin guard; a non-admin whose own record is gone holds a token for nobody: 401."""

    # A class, not @contextmanager: a generator-based one cost 2 µs of every GET /users/{id}.
    def __init__(self, caller: Principal, user_id: str) -> None:
        caller.require_owner_or_admin(user_id)
        self.caller = caller

    def __enter__(self) -> None:
        """Nothing to set up: the guard ran when the route named its caller."""

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        """A missing user is a 401 for a non-admin caller."""
        if isinstance(exc, NotFound) and not self.caller.is_admin:
            raise Unauthenticated("the user of this token does not exist") from exc


@router.post(
    "",
    status_code=201,
    response_model=UserOut,
    response_model_by_alias=True,
    responses={
        **replies_with(201, "Location", "ETag"),
        **error_replies(
            r403="Another user's id, or an email the token does not vouch for (its verified `email` claim)",
            r409="This id or email is taken",
        ),
    },
)
async def create_user(body: UserCreate, request: Request) -> Response:
    """Register the caller's profile (id = token sub); admins may give any id. 409 if the email is taken."""
    caller = deps.caller(request)
    if body.id is None and not re.fullmatch(ID_PATTERN, caller.sub):
        raise ValidationError("the token subject cannot be a user id", [{"field": "id", "message": "give an id"}])
    user = deps.users(request).create_as(caller, body.name, body.email, body.id)
    return reply(UserOut.of(user), 201, {"Location": f"/users/{user.id}", "ETag": etag(user.version)})


@router.get("", response_model=UserList)
async def list_users(
    request: Request,
    email: Annotated[Email | None, Query(description="Look up by email (users: only their own)")] = None,
    limit: Limit = 20,
    cursor: Cursor = None,
) -> Response:
    """List users (admins only), or find the one with an email."""
    caller, users = deps.caller(request), deps.users(request)
    if email is not None:
        return reply(UserList(items=[UserOut.of(users.find_by_email_as(caller, email))], next_cursor=None))
    caller.require_admin()
    page = users.list(limit, cursor)
    return reply(UserList(items=[UserOut.of(u) for u in page.items], next_cursor=page.next_key))


@router.get("/{user_id}", response_model=UserOut, responses=replies_with(200, "ETag"))
async def get_user(user_id: UserId, request: Request) -> Response:
    """One user: the owner or an admin."""
    with owner_route(deps.caller(request), user_id):
        user = deps.users(request).get(user_id)
    return reply(UserOut.of(user), headers={"ETag": etag(user.version)})


@router.patch(
    "/{user_id}",
    response_model=UserOut,
    responses={
        **replies_with(200, "ETag"),
        **error_replies(
            r403="Not the owner, or an email the token does not vouch for",
            r404="No such user",
            r409="The email is taken",
            r412="If-Match names another version, or is not an ETag of this API",
        ),
    },
)
async def update_user(user_id: UserId, body: UserPatch, request: Request, if_match: IfMatch = None) -> Response:
    """Change a user's name and/or email; If-Match guards against lost updates."""
    caller = deps.caller(request)
    version = deps.if_match_version(if_match)
    with owner_route(caller, user_id):
        user = deps.users(request).update_as(caller, user_id, version, body.name, body.email)
    return reply(UserOut.of(user), headers={"ETag": etag(user.version)})


@router.delete(
    "/{user_id}",
    status_code=204,
    responses=error_replies(r404="No such user", r412="If-Match names another version, or is not an ETag of this API"),
)
async def delete_user(user_id: UserId, request: Request, if_match: IfMatch = None) -> Response:
    """Delete a user and release its email."""
    caller = deps.caller(request)
    version = deps.if_match_version(if_match)
    with owner_route(caller, user_id):
        deps.users(request).delete(user_id, version)
    return Response(status_code=204)
