"""Shared fixtures: the local cloud (one per session, reset per test) and app clients."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from infra.local.cloud import LocalCloud
from infra.local.env import cloud_env, function_env
from infra.local.provision import provision
from infra.local.template import Stack, load_template


@pytest.fixture(scope="session")
def local_cloud() -> Iterator[LocalCloud]:
    """The embedded AWS, on a free loopback port, for the whole session."""
    cloud = LocalCloud().start()
    yield cloud
    cloud.stop()


@pytest.fixture
def stack(local_cloud: LocalCloud, monkeypatch: pytest.MonkeyPatch) -> Iterator[Stack]:
    """A freshly reset local cloud, provisioned from the template, with the API's environment."""
    local_cloud.reset()
    stack = Stack(load_template(), local_cloud.endpoint)
    provision(stack)
    for key, value in {**function_env(stack, "ApiFunction"), **cloud_env(stack)}.items():
        monkeypatch.setenv(key, value)
    _clear_caches()
    yield stack
    _clear_caches()


def _clear_caches() -> None:
    from app.bootstrap import get_container
    from app.settings import get_settings

    get_settings.cache_clear()
    get_container.cache_clear()
