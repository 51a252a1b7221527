"""HTTP bodies of the users API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from app.api.schemas.common import ID_PATTERN, NAME_SCHEMA, Email, name_rule
from app.domain.users import NAME_MAX, User

Name = Annotated[str, StringConstraints(min_length=1, max_length=NAME_MAX), name_rule(NAME_MAX), NAME_SCHEMA]


class UserCreate(BaseModel):
    """Body of POST /users."""

    model_config = ConfigDict(extra="forbid")
    id: str | None = Field(None, pattern=ID_PATTERN, description="Defaults to the caller's `sub`; admins may set any")
    name: Name
    email: Email


def _one_or_more_without_nulls(schema: dict[str, Any]) -> None:
    """The schema says what the API enforces: at least one field, and none of them null."""
    schema["minProperties"] = 1
    for prop in schema["properties"].values():
        kinds = [k for k in prop.pop("anyOf", []) if k.get("type") != "null"]
        if kinds:
            prop.update(kinds[0])
        prop.pop("default", None)


class UserPatch(BaseModel):
    """Body of PATCH /users/{id}: every field optional, at least one given, none null."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_one_or_more_without_nulls)
    name: Name | None = None
    email: Email | None = None

    @model_validator(mode="before")
    @classmethod
    def _given(cls, data: Any) -> Any:
        if isinstance(data, dict):
            if not data:
                raise ValueError("give name and/or email")
            nulls = sorted(str(k) for k, v in data.items() if v is None)
            if nulls:
                raise ValueError(f"{', '.join(nulls)} must not be null (leave a field out to keep it)")
        return data


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
