"""User use cases."""

from __future__ import annotations

import uuid

from app.domain.auth import Forbidden, Principal
from app.domain.errors import NotFound, PreconditionFailed, ValidationError
from app.domain.events import UserCreated
from app.domain.users import User, normalise_email, normalise_name, same_email
from app.services.cursor import CursorCodec
from app.services.ports.common import Clock, Message, Page, Publisher
from app.services.ports.users import UserRepository


class UserService:
    """Create, read, update and delete users."""

    def __init__(
        self,
        repo: UserRepository,
        publisher: Publisher,
        clock: Clock,
        cursors: CursorCodec,
        user_created_topic: str,
    ) -> None:
        self.repo = repo
        self.publisher = publisher
        self.clock = clock
        self.cursors = cursors
        self.topic = user_created_topic

    def create(self, name: str, email: str, user_id: str | None = None) -> User:
        """Register a user; the email must be free."""
        now = self.clock()
        user = User(
            id=user_id or str(uuid.uuid4()),
            name=normalise_name(name),
            email=normalise_email(email),
            created_at=now,
            updated_at=now,
        )
        self.repo.add(user)
        self.publisher.publish(_user_created(user, self.topic))
        return user

    def get(self, user_id: str) -> User:
        """The user with this id, or NotFound."""
        user = self.repo.get(user_id)
        if user is None:
            raise NotFound(f"user {user_id} not found")
        return user

    def find_by_email(self, email: str) -> User:
        """The user with this email, or NotFound."""
        user = self.repo.get_by_email(normalise_email(email))
        if user is None:
            raise NotFound("no user has this email")
        return user

    def create_as(self, caller: Principal, name: str, email: str, user_id: str | None = None) -> User:
        """Register the caller's own profile (id = sub); an admin may register anyone."""
        owner = user_id or caller.sub
        caller.require_owner_or_admin(owner)
        caller.require_own_email(email)
        return self.create(name, email, owner)

    def find_by_email_as(self, caller: Principal, email: str) -> User:
        """Look up by email: admins find anyone, users only themselves (403 either way, so nothing leaks)."""
        if caller.is_admin:
            return self.find_by_email(email)
        user = self.repo.get_by_email(normalise_email(email))
        if user is not None and user.id == caller.sub:
            return user
        if user is None and same_email(caller.email, email):
            raise NotFound("you have no profile yet")
        raise Forbidden("you may look up only your own email")

    def list(self, limit: int, cursor: str | None) -> Page[User, str]:
        """A page of users."""
        if limit < 1:
            raise ValidationError("limit must be positive", [{"field": "limit", "message": "must be >= 1"}])
        page = self.repo.page(limit, self.cursors.decode(cursor))
        return Page(page.items, self.cursors.encode(page.next_key))

    def update(self, user_id: str, expected_version: int | None, name: str | None, email: str | None) -> User:
        """Change a user's name and/or email, if the caller's version is current."""
        current = self.get(user_id)
        _check_version(current, expected_version)
        updated = current.renamed(name, email, self.clock())
        self.repo.update(updated, current)
        return updated

    def update_as(
        self, caller: Principal, user_id: str, expected_version: int | None, name: str | None, email: str | None
    ) -> User:
        """Change a user as the caller: the owner or an admin, and a non-admin only to their own email."""
        caller.require_owner_or_admin(user_id)
        if email is not None:
            caller.require_own_email(email)
        return self.update(user_id, expected_version, name, email)

    def delete(self, user_id: str, expected_version: int | None = None) -> None:
        """Delete a user and free its email."""
        current = self.get(user_id)
        _check_version(current, expected_version)
        self.repo.delete(current)


def _check_version(user: User, expected: int | None) -> None:
    if expected is not None and expected != user.version:
        raise PreconditionFailed(f"user {user.id} is at version {user.version}, not {expected}")


def _user_created(user: User, topic: str) -> Message:
    event = UserCreated(userId=user.id, name=user.name, email=user.email, createdAt=user.created_at.isoformat())
    return Message(
        topic_arn=topic,
        subject=UserCreated.DETAIL_TYPE,
        body=event.model_dump_json(),
        attributes={"eventType": UserCreated.DETAIL_TYPE, "userId": user.id},
    )
