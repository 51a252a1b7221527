"""Ports of the user use cases."""

from __future__ import annotations

from typing import Protocol

from app.domain.users import User
from app.services.ports.common import Page, PageKey


class UserRepository(Protocol):
    """Stores users; guarantees one user per email."""

    def add(self, user: User) -> None:
        """Store a new user; raise EmailAlreadyExists if the email is taken."""

    def get(self, user_id: str) -> User | None:
        """The user with this id, if any."""

    def get_by_email(self, email: str) -> User | None:
        """The user with this email, if any."""

    def page(self, limit: int, start: PageKey | None) -> Page[User, PageKey]:
        """A page of users."""

    def update(self, user: User, previous: User) -> None:
        """Replace `previous` by `user`; raise PreconditionFailed if it changed meanwhile."""

    def delete(self, user: User) -> None:
        """Delete a user and release its email; raise PreconditionFailed if it changed."""
