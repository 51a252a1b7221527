"""Pure ASGI middleware: correlation id, body limits, content type, metrics and logs."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.problems import problem, serves, unexpected
from app.observability import REQUEST_METRICS, logger, request_record

CORRELATION_HEADER = "x-correlation-id"
# A key of the event the init's priming requests carry (app/lambda_handler.py), which API Gateway never sends:
# such a request is no traffic, so it is not counted in the metrics the alarms read.
PRIMING_MARK = "orderServicePriming"
_CORRELATION_HEADER = CORRELATION_HEADER.encode()
# The statuses whose Location names what the request created; no other reply's is logged.
_CREATED = frozenset({201, 202})
_SAFE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_JSON_TYPES = ("application/json", "application/merge-patch+json")
_BODY_METHODS = {"POST", "PUT", "PATCH"}
# Methods that change nothing, whose routes never read a body: a body sent with one is left unread.
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Sent on every reply: no browser guesses a type other than the declared one (a JSON body is never HTML).
_NOSNIFF = (b"x-content-type-options", b"nosniff")
# An authenticated reply is one user's data: no shared or browser cache may keep it.
_NO_STORE = (b"cache-control", b"no-store")
_LOGGED_PATH = 200  # a hostile 8 KB path is not copied whole into every log line
_DIGITS = re.compile(r"[0-9]{1,18}", re.ASCII)  # str.isdigit() accepts '²', which int() refuses


def correlation_id(scope: Scope, headers: dict[str, str]) -> str:
    """The API Gateway request id, a safe caller-given id, or a new one."""
    event = scope.get("aws.event") or {}
    request_id = (event.get("requestContext") or {}).get("requestId")
    if request_id:
        return str(request_id)
    given = headers.get(CORRELATION_HEADER, "")
    return given if _SAFE_ID.fullmatch(given) else str(uuid.uuid4())


# The only request headers the middleware reads; the app reads its own from the scope.
_WANTED = frozenset(
    {b"content-length", b"transfer-encoding", b"content-type", b"authorization", CORRELATION_HEADER.encode()}
)


def _wanted_headers(raw: list[tuple[bytes, bytes]]) -> dict[str, str]:
    """The headers the middleware judges, by lower-case name (ASGI servers lower-case names already)."""
    return {k.lower().decode("latin-1"): v.decode("latin-1") for k, v in raw if k.lower() in _WANTED}


def _replay(messages: list[Message], then: Receive) -> Receive:
    """A receive callable that hands out the given messages, then waits on the real one (for a disconnect)."""
    pending = list(messages)

    async def receive() -> Message:
        return pending.pop(0) if pending else await then()

    return receive


def _routed(scope: Scope, method: str) -> bool:
    """Whether some route of the app serves this path with this method."""
    app = scope.get("app")
    # Not behind a Starlette app (a bare ASGI test): nothing to ask, so the route is assumed.
    return app is None or serves(app, scope, method)


class RequestContextMiddleware:
    """Wraps each request: ids, limits, a catch-all problem reply, metrics and an access log."""

    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        # The logger's keys, found once: `logger.set_correlation_id` looks its handler up again on every call.
        self.log_keys = logger.registered_formatter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one request."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = _wanted_headers(scope["headers"])
        method = scope["method"]
        if method == "HEAD" and _routed(scope, "GET"):
            # RFC 9110: HEAD wherever GET is served. The GET runs and its body is dropped; the logs say HEAD.
            scope = {**scope, "method": "GET"}
        head = method == "HEAD"
        cid = correlation_id(scope, headers)
        extra_headers = [_NOSNIFF, (_CORRELATION_HEADER, cid.encode())]
        if "authorization" in headers:
            extra_headers.append(_NO_STORE)
        self.log_keys.append_keys(correlation_id=cid)
        started = time.perf_counter()
        state: dict[str, Any] = {"status": 500, "started": False, "closed": False}

        async def send_wrapper(message: Message) -> None:
            if state["closed"]:
                return  # we already answered (413); drop what the app still sends
            if message["type"] == "http.response.start":
                status = state["status"] = message["status"]
                state["started"] = True
                if status in _CREATED:
                    # The created resource (its Location) is what ties a request to an order in the logs.
                    state["location"] = dict(message.get("headers", ())).get(b"location")
                message["headers"] = [*message.get("headers", []), *extra_headers]
            elif head and message.get("body"):
                message = {**message, "body": b""}
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                state["closed"] = True

        async def too_large() -> None:
            if not state["started"]:
                await problem(413, f"request body exceeds {self.max_body_bytes} bytes")(scope, receive, send_wrapper)

        rejection = self._reject(scope, headers)
        safe = scope["method"] in _SAFE_METHODS
        priming = (scope.get("aws.event") or {}).get(PRIMING_MARK) is True
        try:
            if rejection is None and "content-length" not in headers and not safe:
                # Chunked (or unsized) body: read it whole, bounded, before anything runs, because an endpoint
                # that ignores its body (POST /orders/{id}/cancel) would otherwise act on an over-limit request.
                # Through Mangum no request has a Content-Length: the body read here is judged the same way.
                # Read whole and within the limit, it needs no counting on its way to the app.
                receive, rejection = await self._buffered(receive, scope, headers)
                guarded = receive
            else:
                # The routes of safe methods never read a body: nothing to count.
                guarded = receive if safe else self._limited(receive, too_large)
            if rejection is not None:
                await rejection(scope, receive, send_wrapper)
            else:
                await self.app(scope, guarded, send_wrapper)
        except Exception as exc:  # noqa: BLE001 - the last line of defence: never leak a traceback
            if not state["started"]:
                await unexpected(exc)(scope, receive, send_wrapper)
        finally:
            if not priming:
                seconds = time.perf_counter() - started
                self._record(scope, method, state["status"], seconds, state.get("location"), cid)

    def _reject(self, scope: Scope, headers: dict[str, str]) -> Any:
        length = headers.get("content-length")
        if length is not None and (not _DIGITS.fullmatch(length) or int(length) > self.max_body_bytes):
            return problem(413, f"request body exceeds {self.max_body_bytes} bytes")
        has_body = (length is not None and length != "0") or "transfer-encoding" in headers
        return self._media_problem(scope, headers) if has_body else None

    @staticmethod
    def _media_problem(scope: Scope, headers: dict[str, str]) -> Any:
        """415 for a body that is not JSON on a route that takes one (the route decides first: 404, 405)."""
        media = headers.get("content-type", "").split(";")[0].strip().lower()
        if scope["method"] in _BODY_METHODS and media not in _JSON_TYPES and _routed(scope, scope["method"]):
            return problem(415, "request body must be application/json")
        return None

    async def _buffered(self, receive: Receive, scope: Scope, headers: dict[str, str]) -> tuple[Receive, Any]:
        """The whole body replayed as one message, or a 413 once it passes the limit (the rest unread)."""
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return _replay([message], receive), None  # the client went away: let the app see it
            size += len(message.get("body", b""))
            if size > self.max_body_bytes:
                return receive, problem(413, f"request body exceeds {self.max_body_bytes} bytes")
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                whole = {"type": "http.request", "body": b"".join(chunks), "more_body": False}
                return _replay([whole], receive), self._media_problem(scope, headers) if size else None

    def _limited(self, receive: Receive, on_overflow: Callable[[], Awaitable[None]]) -> Receive:
        seen = 0

        async def wrapped() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.max_body_bytes:
                # Answer 413 now and tell the app the client went away, so it stops reading.
                await on_overflow()
                return {"type": "http.disconnect"}
            return message

        return wrapped

    def _record(self, scope: Scope, method: str, status: int, seconds: float, location: bytes | None, cid: str) -> None:
        route = scope.get("route")
        fields: dict[str, Any] = {
            "method": method,
            "route": getattr(route, "path", "unmatched"),
            "path": str(scope.get("path", ""))[:_LOGGED_PATH],
            "status": status,
            "ms": round(seconds * 1000, 2),
        }
        if location is not None:
            fields["location"] = location.decode("latin-1")[:_LOGGED_PATH]
        outcome = "UserRequestSuccess" if status < 400 else "UserRequestError"
        metrics = {outcome: (1.0, MetricUnit.Count), "UserRequestDuration": (seconds * 1000, MetricUnit.Milliseconds)}
        extra = scope.get(REQUEST_METRICS)
        if extra:
            metrics.update(extra)
        request_record(fields, metrics, cid)
