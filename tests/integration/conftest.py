"""Integration fixtures: the real app and container, talking to the local cloud over HTTP."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient

from app.api.main import create_app
from infra.local.cloud import free_port
from infra.local.template import Stack
from infra.local.token import local_secret
from tests.support.tokens import Signer


@pytest.fixture
def client(stack: Stack) -> Iterator[TestClient]:
    """The real app and container against the freshly provisioned local cloud."""
    with TestClient(create_app(), raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
def auth(stack: Stack) -> Signer:
    """Signs tokens with the secret the provisioner generated in the local Secrets Manager."""
    secret = local_secret(stack)
    assert secret, "the provisioner stores the JwtSecret"
    return Signer(secret)


@pytest.fixture
def live_api(stack: Stack) -> Iterator[str]:
    """The real app served by uvicorn on a free port, for tests that need real concurrency."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    yield base
    server.should_exit = True
    thread.join(timeout=10)


def wait_ready(base: str) -> None:
    """Block until the API answers."""
    httpx.get(f"{base}/health", timeout=5).raise_for_status()
