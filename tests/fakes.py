"""In-memory fakes of the ports, for unit tests of services. They keep state to assert on."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from app.domain.errors import EmailAlreadyExists, PreconditionFailed
from app.domain.users import User
from app.services.ports import Message, Page, PageKey


class FakeClock:
    """A clock that moves only when told."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class InMemoryUserRepository:
    """Users by id, with the same uniqueness and version rules as DynamoDB's."""

    users: dict[str, User] = field(default_factory=dict)

    def add(self, user: User) -> None:
        if user.id in self.users or any(u.email == user.email for u in self.users.values()):
            raise EmailAlreadyExists(user.email)
        self.users[user.id] = user

    def get(self, user_id: str) -> User | None:
        return self.users.get(user_id)

    def get_by_email(self, email: str) -> User | None:
        return next((u for u in self.users.values() if u.email == email), None)

    def page(self, limit: int, start: PageKey | None) -> Page:
        ids = sorted(self.users)
        after = start["id"] if start else None
        rest = [i for i in ids if after is None or i > after]
        chosen = rest[:limit]
        next_key = {"id": chosen[-1]} if len(rest) > limit else None
        return Page(items=[self.users[i] for i in chosen], next_key=next_key)

    def update(self, user: User, previous: User) -> None:
        current = self.users.get(previous.id)
        if current is None or current.version != previous.version:
            raise PreconditionFailed(previous.id)
        if any(u.email == user.email and u.id != user.id for u in self.users.values()):
            raise EmailAlreadyExists(user.email)
        self.users[user.id] = user

    def delete(self, user: User) -> None:
        current = self.users.get(user.id)
        if current is None or current.version != user.version:
            raise PreconditionFailed(user.id)
        del self.users[user.id]


@dataclass
class RecordingPublisher:
    """Keeps every published message."""

    messages: list[Message] = field(default_factory=list)

    def publish(self, message: Message) -> None:
        self.messages.append(message)
