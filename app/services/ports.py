"""Ports: the interfaces services need from the outside world."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from app.domain.users import User

PageKey = dict[str, Any]


@dataclass(frozen=True)
class Page:
    """One page of a listing and the key to resume after it."""

    items: list[Any]
    next_key: PageKey | None = None


@dataclass(frozen=True)
class Message:
    """A notification to publish to a topic."""

    topic_arn: str
    body: str
    subject: str | None = None
    attributes: Mapping[str, str] = field(default_factory=dict)


class UserRepository(Protocol):
    """Stores users; guarantees one user per email."""

    def add(self, user: User) -> None:
        """Store a new user; raise EmailAlreadyExists if the email is taken."""

    def get(self, user_id: str) -> User | None:
        """The user with this id, if any."""

    def get_by_email(self, email: str) -> User | None:
        """The user with this email, if any."""

    def page(self, limit: int, start: PageKey | None) -> Page:
        """A page of users."""

    def update(self, user: User, previous: User) -> None:
        """Replace `previous` by `user`; raise PreconditionFailed if it changed meanwhile."""

    def delete(self, user: User) -> None:
        """Delete a user and release its email; raise PreconditionFailed if it changed."""


class Publisher(Protocol):
    """Publishes notifications."""

    def publish(self, message: Message) -> None:
        """Publish one message."""


class Clock(Protocol):
    """The current time, injectable for tests."""

    def __call__(self) -> datetime:
        """Now, timezone-aware in UTC."""


class HealthProbe(Protocol):
    """Checks that one backing service answers."""

    name: str

    def check(self) -> None:
        """Return if healthy; raise otherwise."""
