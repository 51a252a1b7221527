"""The /users router: thin handlers that parse, call one service, and shape the reply."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response
from pydantic import EmailStr

from app.api.deps import etag, if_match_version, users_service
from app.api.schemas import ID_PATTERN, UserCreate, UserList, UserOut, UserPatch
from app.domain.errors import ValidationError
from app.services.users import UserService

router = APIRouter(prefix="/users", tags=["users"])
Users = Annotated[UserService, Depends(users_service)]
UserId = Annotated[str, Path(pattern=ID_PATTERN, description="User id")]
Version = Annotated[int | None, Depends(if_match_version)]


@router.post("", status_code=201, response_model=UserOut, response_model_by_alias=True)
async def create_user(body: UserCreate, users: Users, response: Response) -> UserOut:
    """Register a user; 409 if the email is taken."""
    user = users.create(body.name, body.email)
    response.headers["Location"] = f"/users/{user.id}"
    response.headers["ETag"] = etag(user.version)
    return UserOut.of(user)


@router.get("", response_model=UserList)
async def list_users(
    users: Users,
    response: Response,
    email: Annotated[EmailStr | None, Query(description="Look up by email")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=2048)] = None,
) -> UserList:
    """List users, or find the one with an email."""
    if email is not None:
        return UserList(items=[UserOut.of(users.find_by_email(email))], next_cursor=None)
    page = users.list(limit, cursor)
    return UserList(items=[UserOut.of(u) for u in page.users], next_cursor=page.cursor)


@router.get("/{user_id}", response_model=UserOut)
async def get_user(user_id: UserId, users: Users, response: Response) -> UserOut:
    """One user."""
    user = users.get(user_id)
    response.headers["ETag"] = etag(user.version)
    return UserOut.of(user)


@router.patch("/{user_id}", response_model=UserOut)
async def update_user(user_id: UserId, body: UserPatch, users: Users, version: Version, response: Response) -> UserOut:
    """Change a user's name and/or email; If-Match guards against lost updates."""
    if body.name is None and body.email is None:
        raise ValidationError("give name and/or email", [{"field": "body", "message": "name or email is required"}])
    user = users.update(user_id, version, body.name, body.email)
    response.headers["ETag"] = etag(user.version)
    return UserOut.of(user)


@router.delete("/{user_id}", status_code=204)
async def delete_user(user_id: UserId, users: Users, version: Version) -> Response:
    """Delete a user and release its email."""
    users.delete(user_id, version)
    return Response(status_code=204)
