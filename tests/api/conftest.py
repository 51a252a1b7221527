"""API tests: the real app over TestClient, with the container's AWS adapters swapped for fakes."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.api import deps
from app.api.main import create_app
from app.services.cursor import CursorCodec
from app.services.health import HealthReport
from app.services.order_events import AnalyticsQueries
from app.services.tokens import TokenVerifier
from app.services.users import UserService
from app.settings import Settings
from tests import tokens as test_tokens
from tests.event_fakes import InMemoryAnalytics
from tests.fakes import FakeClock, InMemoryUserRepository, RecordingPublisher
from tests.import_fakes import import_service
from tests.order_world import OrderWorld


@dataclass
class FakeContainer:
    """The services of app.bootstrap.Container, built on in-memory fakes."""

    repo: InMemoryUserRepository = field(default_factory=InMemoryUserRepository)
    publisher: RecordingPublisher = field(default_factory=RecordingPublisher)
    clock: FakeClock = field(default_factory=FakeClock)
    healthy: bool = True
    tokens: TokenVerifier = field(default_factory=test_tokens.verifier)
    world: OrderWorld = field(default_factory=OrderWorld)

    def __post_init__(self) -> None:
        self.repo = self.world.users  # one user table: the order service checks that the caller has a profile
        self.catalog = self.world.catalog
        self.orders = self.world.order_service
        self.analytics = AnalyticsQueries(InMemoryAnalytics())
        self.catalog_imports = import_service(self.clock)
        self.users = UserService(self.repo, self.publisher, self.clock, CursorCodec("k" * 32, "users"), "arn:topic")

    def health(self) -> HealthReport:
        return HealthReport(healthy=self.healthy, checks={"dynamodb": "ok" if self.healthy else "unavailable"})


@pytest.fixture
def fake() -> FakeContainer:
    return FakeContainer()


@pytest.fixture
def app(fake: FakeContainer) -> FastAPI:
    application = create_app(Settings(cors_allowed_origins="https://app.example.com"))
    application.dependency_overrides[deps.container] = lambda: fake
    return application


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c
