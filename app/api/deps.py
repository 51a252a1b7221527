"""FastAPI dependencies: the container and its services."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header

from app.bootstrap import Container, get_container
from app.domain.errors import PreconditionFailed
from app.services.users import UserService


def container() -> Container:
    """The process-wide container (overridden in tests)."""
    return get_container()


def users_service(c: Annotated[Container, Depends(container)]) -> UserService:
    """The user use cases."""
    return c.users


def if_match_version(if_match: Annotated[str | None, Header()] = None) -> int | None:
    """The version an If-Match header names; None when absent or '*'."""
    if if_match is None or if_match.strip() == "*":
        return None
    tag = if_match.strip().removeprefix("W/").strip('"')
    if not tag.isdigit():
        raise PreconditionFailed("If-Match must be an ETag returned by this API")
    return int(tag)


def etag(version: int) -> str:
    """The ETag of a resource version."""
    return f'"{version}"'
