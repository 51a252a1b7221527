"""HTTP bodies of the users API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from app.api.schemas.common import ID_PATTERN, Email, name_rule
from app.domain.users import NAME_MAX, User

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=NAME_MAX), name_rule(NAME_MAX)]


class UserCreate(BaseModel):
    """Body of POST /users."""

    model_config = ConfigDict(extra="forbid")
    id: str | None = Field(None, pattern=ID_PATTERN, description="Defaults to the caller's `sub`; admins may set any")
    name: Name
    email: Email


class UserPatch(BaseModel):
    """Body of PATCH /users/{id}: every field optional, at least one given."""

    model_config = ConfigDict(extra="forbid")
    name: Name | None = None
    email: Email | None = None


class UserOut(BaseModel):
    """A user as the API shows it."""

    id: str
    name: str
    email: str
    created_at: datetime = Field(serialization_alias="createdAt")
    updated_at: datetime = Field(serialization_alias="updatedAt")
    version: int

    @classmethod
    def of(cls, user: User) -> UserOut:
        """From the domain entity."""
        return cls(
            id=user.id,
            name=user.name,
            email=user.email,
            created_at=user.created_at,
            updated_at=user.updated_at,
            version=user.version,
        )


class UserList(BaseModel):
    """A page of users."""

    items: list[UserOut]
    next_cursor: str | None = Field(serialization_alias="nextCursor")
