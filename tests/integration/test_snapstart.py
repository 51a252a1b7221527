"""Eager init under SnapStart and provisioned concurrency, lazy on demand; refresh after a snapshot restore."""

from __future__ import annotations

import importlib
import random
import sys
import types
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from app.bootstrap import get_container
from infra.local.cloud import LocalCloud
from infra.local.template import Stack

Hooks = list[Callable[[], None]]


@pytest.fixture
def restore_hooks(monkeypatch: pytest.MonkeyPatch) -> Hooks:
    """The Lambda runtime's snapshot_restore_py module, recording what the function registers."""
    hooks: Hooks = []
    module = types.ModuleType("snapshot_restore_py")
    module.register_after_restore = hooks.append  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "snapshot_restore_py", module)
    return hooks


def requests_to(local_cloud: LocalCloud, operation: str) -> Iterator[list[str]]:
    """The requests for one operation made against the local cloud while the fixture lives."""
    reads: list[str] = []

    def observe(environ: dict[str, Any]) -> None:
        if environ.get("HTTP_X_AMZ_TARGET", "").endswith(f".{operation}"):
            reads.append(environ["HTTP_X_AMZ_TARGET"])

    local_cloud.observers.append(observe)
    yield reads
    local_cloud.observers.remove(observe)


@pytest.fixture
def secret_reads(local_cloud: LocalCloud) -> Iterator[list[str]]:
    """The GetSecretValue requests made against the local cloud."""
    yield from requests_to(local_cloud, "GetSecretValue")


@pytest.fixture
def item_reads(local_cloud: LocalCloud) -> Iterator[list[str]]:
    """The GetItem requests made against the local cloud."""
    yield from requests_to(local_cloud, "GetItem")


def fresh_import(name: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The module's init run once now, as in a new environment; the module imported before is back afterwards."""
    # Left in place, the new module (its caches built under this test's settings) answered for the old one:
    # a later test in the same process that cleared the old module's caches still met the new one's.
    package, _, child = name.rpartition(".")
    importlib.import_module(package)  # run alone, a test may be the first to import the package
    monkeypatch.delitem(sys.modules, name, raising=False)
    monkeypatch.setattr(sys.modules[package], child, getattr(sys.modules[package], child, None), raising=False)
    return importlib.import_module(name)


def load_api(monkeypatch: pytest.MonkeyPatch, init_type: str) -> Any:
    monkeypatch.setenv("AWS_LAMBDA_INITIALIZATION_TYPE", init_type)
    get_container.cache_clear()
    return fresh_import("app.lambda_handler", monkeypatch)


def test_an_on_demand_init_builds_nothing(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, secret_reads: list[str]
) -> None:
    load_api(monkeypatch, "on-demand")
    assert get_container.cache_info().currsize == 0
    assert secret_reads == []


@pytest.mark.parametrize("init_type", ["snap-start", "provisioned-concurrency"])
def test_an_eager_init_builds_reads_secrets_and_primes_a_request(
    stack: Stack,
    monkeypatch: pytest.MonkeyPatch,
    secret_reads: list[str],
    item_reads: list[str],
    restore_hooks: Hooks,
    init_type: str,
) -> None:
    module = load_api(monkeypatch, init_type)
    assert len(item_reads) == module.PRIMING_REQUESTS == 3  # each priming request reached DynamoDB
    container = get_container()
    assert {"users", "orders", "catalog", "catalog_imports", "analytics"} <= set(vars(container))
    assert len(secret_reads) == 1  # the cursor key; the edge authorizer's caller needs no token secret
    # The priming request went through FastAPI and the DynamoDB adapter: no such user, 404.
    assert module.prime(module._asgi) == 404
    assert len(restore_hooks) == 1


def test_priming_requests_reach_no_metric(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    module = load_api(monkeypatch, "snap-start")
    assert module.prime(module._asgi) == 404
    printed = capsys.readouterr().out
    # Each 404 used to write an EMF record counting UserRequestError: 3 false errors per published version.
    assert '"_aws"' not in printed
    assert "UserRequestError" not in printed
    # The same request without the mark is traffic: counted.
    event = {**module.priming_event(), module.PRIMING_MARK: False}
    assert module._asgi(event, None)["statusCode"] == 404
    assert "UserRequestError" in capsys.readouterr().out


def test_after_a_restore_secrets_are_read_again_and_random_is_reseeded(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, secret_reads: list[str], restore_hooks: Hooks
) -> None:
    load_api(monkeypatch, "snap-start")
    container = get_container()
    container.cursor_key()
    assert len(secret_reads) == 1  # cached
    random.seed(7)
    snapshot_draw = random.random()
    random.seed(7)  # every restored copy starts from the snapshot's random state

    (restored,) = restore_hooks
    restored()

    assert "tokens" not in vars(container)  # trusting the edge, the API never builds a token verifier
    assert random.random() != snapshot_draw
    container.cursor_key()
    assert len(secret_reads) == 2


def test_the_authorizer_reads_its_secret_at_an_eager_init(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, secret_reads: list[str], restore_hooks: Hooks
) -> None:
    from infra.local.env import function_env

    for key, value in function_env(stack, "AuthorizerFunction").items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("AWS_LAMBDA_INITIALIZATION_TYPE", "snap-start")
    from app.settings import get_settings

    get_settings.cache_clear()
    module = fresh_import("workers.authorizer", monkeypatch)
    assert len(secret_reads) == 1
    (restored,) = restore_hooks
    restored()
    module.verifier().keys.key_for({})
    assert len(secret_reads) == 2
    get_settings.cache_clear()


@pytest.fixture
def paused_collector(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The collector as a Lambda init has it when the handler module starts loading (app/coldstart.py)."""
    import gc

    from app import coldstart

    monkeypatch.setattr(coldstart, "_paused", True)
    gc.disable()
    try:
        yield
    finally:
        gc.unfreeze()
        gc.enable()


@pytest.mark.usefixtures("paused_collector", "restore_hooks")
def test_an_eager_init_resumes_the_collector_before_the_snapshot(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    import gc

    load_api(monkeypatch, "snap-start")
    assert gc.isenabled()
    assert gc.get_freeze_count() > 0  # what the init built is frozen, as the snapshot will keep it
