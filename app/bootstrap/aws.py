"""AWS clients of the container: one boto3 session per container, one client per service.

Creating a session and a client is most of a cold start's AWS cost (each session reloads
botocore's endpoint and partition data), so a container creates each at most once, and only
when a code path first needs it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from app.settings import Settings


class AwsClients:
    """Creates boto3 clients on first use, with the settings' timeouts and retry policy."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._session: Any = None
        self._clients: dict[tuple[str, str | None], Any] = {}
        # boto3 sessions are not thread-safe while creating clients (uvicorn's thread pool, tests).
        self._lock = threading.Lock()

    def __call__(self, service: str, signature_version: str | None = None) -> Any:
        """The client of a service (created once)."""
        key = (service, signature_version)
        with self._lock:
            if key not in self._clients:
                self._clients[key] = self._create(service, signature_version)
            return self._clients[key]

    def _create(self, service: str, signature_version: str | None) -> Any:
        import boto3  # deferred: only code paths that talk to AWS pay for botocore
        from botocore.config import Config

        s = self.settings
        options: dict[str, Any] = {
            "connect_timeout": s.aws_connect_timeout,
            "read_timeout": s.aws_read_timeout,
            "retries": {"mode": "standard", "total_max_attempts": s.aws_max_attempts},
        }
        if signature_version:
            options["signature_version"] = signature_version
        if self._session is None:
            self._session = boto3.session.Session()
        return self._session.client(service, region_name=s.aws_region, config=Config(**options))


class LazyClient:
    """Stands in for a client until an adapter first calls it, so unused clients are never built."""

    def __init__(self, factory: Callable[[], Any]) -> None:
        self._factory = factory
        self._client: Any = None

    def __getattr__(self, name: str) -> Any:
        if self._client is None:
            self._client = self._factory()
        return getattr(self._client, name)
