"""Shared fixtures: the local cloud (one per session, reset per test) and app clients."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from infra.local.cloud import LocalCloud
from infra.local.env import cloud_env, function_env
from infra.local.provision import provision
from infra.local.runtime import LocalRuntime
from infra.local.template import Stack, load_template
from tests.support import least_privilege
from tests.support.parameters import TEST_PARAMETERS


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Note whether the whole suite runs: only then can a permission be shown unneeded."""
    least_privilege.note_selection(config)


def pytest_deselected(items: list[pytest.Item]) -> None:
    """A filtered run cannot prove a permission unexercised."""
    least_privilege.deselected(items)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    """pytest-xdist's controller: a worker finished; keep what it recorded."""
    least_privilege.merge(node.config, node.workeroutput.get("least_privilege", {}))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Workers hand their recording over; the controller (or the only process) runs the check."""
    config = session.config
    if hasattr(config, "workerinput"):
        config.workeroutput["least_privilege"] = least_privilege.export(session)  # type: ignore[attr-defined]
        return
    recording = config.stash.get(least_privilege.MERGED, None) or least_privilege.export(session)
    if least_privilege.verify(config, recording):
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    """Print the least-privilege problems, if any."""
    least_privilege.summary(terminalreporter, config)


@pytest.fixture(scope="session")
def local_cloud(pytestconfig: pytest.Config) -> Iterator[LocalCloud]:
    """The embedded AWS, on a free loopback port, for the whole session; every call is recorded."""
    cloud = LocalCloud().start()
    cloud.observers.append(least_privilege.recorder(pytestconfig).observe)
    yield cloud
    cloud.stop()


@pytest.fixture
def stack_overrides() -> dict[str, str]:
    """Template parameters to deploy with (a test parametrizes `stack_overrides` to change them)."""
    return {}


@pytest.fixture
def stack(local_cloud: LocalCloud, monkeypatch: pytest.MonkeyPatch, stack_overrides: dict[str, str]) -> Iterator[Stack]:
    """A freshly reset local cloud, provisioned from the template, with the API's environment."""
    local_cloud.reset()
    stack = Stack(load_template(), local_cloud.endpoint, overrides={**TEST_PARAMETERS, **stack_overrides})
    provision(stack)
    for key, value in {**function_env(stack, "ApiFunction"), **cloud_env(stack)}.items():
        monkeypatch.setenv(key, value)
    _clear_caches()
    yield stack
    _clear_caches()


class Logs(list[str]):
    """A log sink for the runtime that keeps every line, to assert on."""

    def __call__(self, line: str) -> None:
        self.append(line)


@pytest.fixture
def logs() -> Logs:
    """The runtime's captured log lines."""
    return Logs()


@pytest.fixture
def runtime(stack: Stack, logs: Logs) -> Iterator[LocalRuntime]:
    """Every function of infra/template.yaml running with its event sources (SQS, rules, schedules, workflows)."""
    # Workers start on first use: a test pays only for the functions it reaches (make run warms them all).
    local = LocalRuntime(stack, log=logs, poll_seconds=1, retry_delay_seconds=1).start(warm=False)
    yield local
    local.stop()


def _clear_caches() -> None:
    from app.bootstrap import get_container
    from app.settings import get_settings

    get_settings.cache_clear()
    get_container.cache_clear()
