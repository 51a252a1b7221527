"""The embedded local AWS: a moto server on loopback whose DynamoDB calls are atomic."""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
from collections.abc import Callable, Iterable
from typing import Any

import requests
import waitress
from moto.core.request import (
    PRESERVED_HEADER_NAMES_ENVIRON_KEY,
    environ_key_for_header,
    should_preserve_original_header_name,
)
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from waitress import wasyncore
from waitress.channel import HTTPChannel
from waitress.parser import HTTPRequestParser, get_header_lines
from waitress.task import WSGITask

from infra.local import moto_fixes, throttling
from infra.local.paths import KEYS_PATH

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
CallObserver = Callable[[dict[str, Any]], None]

# waitress, not werkzeug's development server (which moto's own server uses): werkzeug closes the connection after
# every response and starts a thread per connection, and under `make load` 77% of the local cloud's requests paid
# for a new TCP connection and a new thread. waitress keeps connections alive and answers from a pool of threads:
# `make load` went from 31 to 42 requests/s (docs/local.md). Each long poll holds a pool thread while it waits (the
# runtime's pollers wait up to their poll interval), hence a large pool; idle connections hold none.
SERVER_THREADS = 64
# Every warm function process, uvicorn worker and in-process client keeps its own pool of connections.
CONNECTION_LIMIT = 1000
IDLE_CONNECTION_SECONDS = 60
# "Task queue depth is N" whenever a request waits for a free thread: routine under load, noise in the logs.
logging.getLogger("waitress.queue").setLevel(logging.ERROR)


# Held by every DynamoDB request to this process's local cloud, and by every read of its tables in place.
DYNAMODB_LOCK = threading.Lock()


class SerializedDynamoDB:
    """WSGI middleware that runs one DynamoDB request at a time.

    moto's backends are not thread-safe, so two concurrent conditional writes can
    both pass their condition. AWS guarantees they cannot; serialising DynamoDB
    requests restores that guarantee locally.
    """

    def __init__(
        self, app: WSGIApp, observers: list[CallObserver] | None = None, lock: threading.Lock | None = None
    ) -> None:
        self.app = app
        self.lock = lock or threading.Lock()
        self.observers = observers if observers is not None else []

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        """Handle one request."""
        if environ.get("PATH_INFO") == KEYS_PATH:
            return _keys(environ, start_response)
        for observe in self.observers:
            observe(environ)
        if environ.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB_"):
            with self.lock:
                # Consume the body inside the lock: moto may do the work lazily.
                return list(self.app(environ, start_response))
        return self.app(environ, start_response)


def _keys(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """GET: the local DynamoDB's units and throttles per key; POST {"scale": s}: its per-key limits' scale."""
    if environ.get("REQUEST_METHOD") == "POST":
        length = int(environ.get("CONTENT_LENGTH") or 0)
        try:
            throttling.METER.scale = throttling.checked_scale(json.loads(environ["wsgi.input"].read(length))["scale"])
        except (ValueError, KeyError, TypeError) as exc:
            start_response("400 Bad Request", [("Content-Type", "application/json")])
            return [json.dumps({"message": str(exc)}).encode()]
    start_response("200 OK", [("Content-Type", "application/json")])
    return [json.dumps({"scale": throttling.METER.scale, "keys": throttling.METER.report()}).encode()]


class NamedHeadersParser(HTTPRequestParser):  # type: ignore[misc]  # waitress is untyped
    """waitress's request parser, also keeping each header's name as sent."""

    # waitress keeps only WSGI keys (upper case), and drops every header whose name has an underscore.
    sent_headers: list[tuple[str, str]] = []

    def parse_header(self, header_plus: bytes) -> None:
        """Parse the head of the request."""
        super().parse_header(header_plus)
        _, _, header = header_plus.partition(b"\r\n")  # after the request line; folded lines joined as waitress does
        pairs = (line.partition(b":") for line in get_header_lines(header))
        self.sent_headers = [
            (name.decode("latin-1"), value.strip(b" \t").decode("latin-1")) for name, _, value in pairs
        ]


class MotoTask(WSGITask):  # type: ignore[misc]  # waitress is untyped
    """waitress's WSGI task, with the underscored S3 metadata headers moto's own server keeps."""

    def get_environment(self) -> dict[str, Any]:
        """The request's environ."""
        cached = self.environ is not None
        environ: dict[str, Any] = super().get_environment()
        if cached:
            return environ
        sent = self.request.sent_headers
        dashed = {environ_key_for_header(name) for name, _ in sent if "_" not in name}
        names: dict[str, str] = {}
        for name, value in sent:
            key = environ_key_for_header(name)
            # moto keeps the spelling of underscored S3 metadata names (waitress dropped them); WSGI folds
            # `my_key` and `my-key` into one key, and an underscored one never stands in for a dashed one.
            if should_preserve_original_header_name(name) and key not in dashed:
                environ[key] = f"{environ[key]},{value}" if key in names else value
                names.setdefault(key, name)
        environ[PRESERVED_HEADER_NAMES_ENVIRON_KEY] = names
        return environ

    def build_response_header(self) -> bytes:
        """The response's head, with S3 metadata headers named as moto named them."""
        # waitress capitalises every header name ("X-Amz-Meta-My_key"); HTTP does not care, but boto3 takes the
        # metadata keys from the names as they arrive, and S3 sends them in lower case.
        named = [name for name, _ in self.response_headers if name.lower().startswith("x-amz-meta-")]
        head: bytes = super().build_response_header()  # capitalises response_headers in place, too
        for name in named:
            capitalised = "-".join(part.capitalize() for part in name.split("-"))
            head = head.replace(f"\r\n{capitalised}:".encode("latin-1"), f"\r\n{name}:".encode("latin-1"), 1)
        return head


class KeepAliveChannel(HTTPChannel):  # type: ignore[misc]  # waitress is untyped
    """waitress's connection: our parser and task, and no wait for the body of a complete request."""

    parser_class = NamedHeadersParser
    task_class = MotoTask

    def send_continue(self) -> None:
        """Send `100 Continue`, unless the request is already complete (Content-Length: 0)."""
        # botocore sends `Expect: 100-continue` with every S3 PUT, empty ones included. waitress would send the
        # 100 and then wait for a body that never comes: the request (and the test, or the import) hangs.
        if self.request.completed:
            self.request.expect_continue = False
            return
        super().send_continue()


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
        self._server: Any = None
        self._thread: threading.Thread | None = None

    @property
    def endpoint(self) -> str:
        """Base URL of the local AWS endpoint."""
        return f"http://{self.host}:{self.port}"

    def start(self) -> LocalCloud:
        """Start serving and turn on Step Functions execution."""
        app = SerializedDynamoDB(DomainDispatcherApplication(create_backend_app), self.observers, DYNAMODB_LOCK)
        self._server = waitress.create_server(
            app,
            host=self.host,
            port=self.port,
            threads=SERVER_THREADS,
            connection_limit=CONNECTION_LIMIT,
            channel_timeout=IDLE_CONNECTION_SECONDS,
            ident="local-aws",
        )
        self._server.channel_class = KeepAliveChannel
        self._thread = threading.Thread(target=self._server.run, name="local-aws", daemon=True)
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
        throttling.METER.reset()
        self.configure()

    def stop(self) -> None:
        """Stop serving."""
        server = self._server
        if server is not None:
            # Every open connection too, not only the listener: waitress's loop runs until none is left. Closed by
            # the loop's own thread: sockets closed under its poll from here end it with a traceback.
            server.trigger.pull_trigger(lambda: wasyncore.close_all(server._map))
        if self._thread is not None:
            self._thread.join(timeout=10)
        if server is not None:
            # Its threads are daemons: a long poll still waiting is not worth holding up a Ctrl-C for.
            server.task_dispatcher.shutdown(timeout=1)
