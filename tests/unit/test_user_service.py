from __future__ import annotations

import json

import pytest

from app.domain.errors import EmailAlreadyExists, InvalidCursor, NotFound, PreconditionFailed, ValidationError
from app.services.cursor import CursorCodec
from app.services.users import UserService
from tests.support.fakes import FakeClock, InMemoryUserRepository, RecordingPublisher

TOPIC = "arn:aws:sns:us-east-1:123456789012:user-created"


@pytest.fixture
def repo() -> InMemoryUserRepository:
    return InMemoryUserRepository()


@pytest.fixture
def publisher() -> RecordingPublisher:
    return RecordingPublisher()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def service(repo: InMemoryUserRepository, publisher: RecordingPublisher, clock: FakeClock) -> UserService:
    return UserService(repo, publisher, clock, CursorCodec("k" * 32, "users"), TOPIC)


def test_create_stores_normalised_user_and_publishes(
    service: UserService, repo: InMemoryUserRepository, publisher: RecordingPublisher, clock: FakeClock
) -> None:
    user = service.create("  Ada ", "ADA@Example.com")
    assert repo.users[user.id].email == "ada@example.com"
    assert repo.users[user.id].name == "Ada"
    assert user.created_at == clock.now
    assert user.version == 1
    [message] = publisher.messages
    assert message.topic_arn == TOPIC
    assert message.attributes == {"eventType": "UserCreated", "userId": user.id}
    assert json.loads(message.body)["email"] == "ada@example.com"


def test_create_with_given_id(service: UserService) -> None:
    assert service.create("Ada", "ada@example.com", user_id="sub-123").id == "sub-123"


def test_duplicate_email_is_rejected_and_nothing_published(
    service: UserService, repo: InMemoryUserRepository, publisher: RecordingPublisher
) -> None:
    service.create("Ada", "ada@example.com")
    with pytest.raises(EmailAlreadyExists):
        service.create("Other", "ADA@example.com")
    assert len(repo.users) == 1
    assert len(publisher.messages) == 1


def test_get_and_find(service: UserService) -> None:
    user = service.create("Ada", "ada@example.com")
    assert service.get(user.id) == user
    assert service.find_by_email("Ada@Example.com") == user
    with pytest.raises(NotFound):
        service.get("missing")
    with pytest.raises(NotFound):
        service.find_by_email("nobody@example.com")


def test_list_pages_through_everyone(service: UserService) -> None:
    created = {service.create(f"U{i}", f"u{i}@example.com").id for i in range(7)}
    seen: list[str] = []
    cursor: str | None = None
    while True:
        page = service.list(3, cursor)
        seen.extend(u.id for u in page.items)
        if page.next_key is None:
            break
        cursor = page.next_key
    assert sorted(seen) == sorted(created)
    with pytest.raises(InvalidCursor):
        service.list(3, "forged")
    with pytest.raises(ValidationError):
        service.list(0, None)


def test_update_checks_version_and_changes_fields(service: UserService, clock: FakeClock) -> None:
    user = service.create("Ada", "ada@example.com")
    clock.advance(minutes=5)
    updated = service.update(user.id, 1, "Ada L", "ada@new.io")
    assert (updated.name, updated.email, updated.version) == ("Ada L", "ada@new.io", 2)
    assert updated.updated_at == clock.now
    assert service.find_by_email("ada@new.io").id == user.id
    with pytest.raises(PreconditionFailed):
        service.update(user.id, 1, "Stale", None)
    assert service.get(user.id).name == "Ada L"


def test_update_to_a_taken_email_conflicts(service: UserService) -> None:
    a = service.create("A", "a@example.com")
    service.create("B", "b@example.com")
    with pytest.raises(EmailAlreadyExists):
        service.update(a.id, None, None, "b@example.com")
    assert service.get(a.id).email == "a@example.com"


def test_delete_frees_the_email(service: UserService) -> None:
    user = service.create("Ada", "ada@example.com")
    with pytest.raises(PreconditionFailed):
        service.delete(user.id, 7)
    service.delete(user.id, 1)
    with pytest.raises(NotFound):
        service.get(user.id)
    assert service.create("Ada again", "ada@example.com").email == "ada@example.com"
