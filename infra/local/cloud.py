"""The embedded local AWS: a moto server on loopback whose DynamoDB calls are atomic."""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Callable, Iterable
from typing import Any

import requests
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import BaseWSGIServer, make_server

from infra.local import moto_fixes

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
CallObserver = Callable[[dict[str, Any]], None]


class SerializedDynamoDB:
    """WSGI middleware that runs one DynamoDB request at a time.

    moto's backends are not thread-safe, so two concurrent conditional writes can
    both pass their condition. AWS guarantees they cannot; serialising DynamoDB
    requests restores that guarantee locally.
    """

    def __init__(self, app: WSGIApp, observers: list[CallObserver] | None = None) -> None:
        self.app = app
        self.lock = threading.Lock()
        self.observers = observers if observers is not None else []

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        """Handle one request."""
        for observe in self.observers:
            observe(environ)
        if environ.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB_"):
            with self.lock:
                # Consume the body inside the lock: moto may do the work lazily.
                return list(self.app(environ, start_response))
        return self.app(environ, start_response)


class QuietRequestHandler(MotoRequestHandler):
    """moto's request handler without a log line per request."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Skip the access log; the runtime logs what matters."""


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LocalCloud:
    """A moto server running in a background thread of this process."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self.port = port or free_port()
        self.observers: list[CallObserver] = []
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def endpoint(self) -> str:
        """Base URL of the local AWS endpoint."""
        return f"http://{self.host}:{self.port}"

    def start(self) -> LocalCloud:
        """Start serving and turn on Step Functions execution."""
        app = SerializedDynamoDB(DomainDispatcherApplication(create_backend_app), self.observers)
        self._server = make_server(self.host, self.port, app, threaded=True, request_handler=QuietRequestHandler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="local-aws", daemon=True)
        self._thread.start()
        # moto's Step Functions service integrations call back to the server on MOTO_PORT.
        os.environ["MOTO_PORT"] = str(self.port)
        moto_fixes.apply()
        self.configure()
        return self

    def configure(self) -> None:
        """Settings that moto forgets on reset."""
        requests.post(
            f"{self.endpoint}/moto-api/config",
            json={"stepfunctions": {"execute_state_machine": True}},
            timeout=10,
        ).raise_for_status()

    def reset(self) -> None:
        """Drop every resource and its data."""
        requests.post(f"{self.endpoint}/moto-api/reset", timeout=30).raise_for_status()
        self.configure()

    def stop(self) -> None:
        """Stop serving."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)
