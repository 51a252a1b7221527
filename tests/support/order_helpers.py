"""Helpers of the order integration tests: run code as a given function of the template."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from app.bootstrap import Container
from app.domain.users import User
from app.settings import get_settings
from infra.local.env import function_env
from infra.local.template import Stack


def as_function(stack: Stack, monkeypatch: pytest.MonkeyPatch, logical_id: str) -> Container:
    """Services built with the function's environment, so its calls are attributed to it (least privilege).

    Clients are created now: boto3 reads the environment (endpoint, app id) when a client is made.
    """
    for key, value in function_env(stack, logical_id).items():
        monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    container = Container(get_settings())
    container.dynamodb  # noqa: B018 - create the client under this function's identity
    made: dict[str, Any] = {
        name: container.client(name) for name in ("sqs", "stepfunctions", "events", "secretsmanager")
    }
    container.client = made.__getitem__  # type: ignore[method-assign,assignment]
    return container


def add_users(api: Container, *user_ids: str) -> None:
    """Profiles for these users: the API accepts orders only from users who have one."""
    now = datetime.now(UTC)
    for user_id in user_ids:
        if api.user_repo.get(user_id) is None:
            api.user_repo.add(User(user_id, user_id.title(), f"{user_id}@example.com", now, now))
