"""API tests: the real app over TestClient, and the real container built on in-memory fakes (tests/order_world)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.api.main import create_app
from app.bootstrap import Container
from app.services.tokens import TokenVerifier
from app.settings import Settings
from tests.support.fakes import InMemoryUserRepository, RecordingPublisher
from tests.support.order_world import OrderWorld


class FakeContainer:
    """What an API test inspects and switches: the fakes behind the container, and its token verifier."""

    def __init__(self) -> None:
        self.world = OrderWorld()
        self.container: Container = self.world.container
        self.repo: InMemoryUserRepository = self.world.users
        self.publisher: RecordingPublisher = self.world.user_events

    @property
    def healthy(self) -> bool:
        """Whether the fake database answers the health probe."""
        return self.world.database.up

    @healthy.setter
    def healthy(self, up: bool) -> None:
        self.world.database.up = up

    @property
    def tokens(self) -> TokenVerifier:
        """The container's token verifier."""
        return self.container.tokens

    @tokens.setter
    def tokens(self, verifier: TokenVerifier) -> None:
        self.container.__dict__["tokens"] = verifier  # replaces the cached verifier, as a new key source would


@pytest.fixture
def fake() -> FakeContainer:
    return FakeContainer()


@pytest.fixture
def app(fake: FakeContainer) -> FastAPI:
    return create_app(Settings(cors_allowed_origins="https://app.example.com"), fake.container)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c
