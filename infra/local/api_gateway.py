"""`make run API=lambda`: each HTTP request goes through the HTTP API's path, as deployed.

The route is matched against the template's `HttpApi` events; a route with the default authorizer
calls `AuthorizerFunction` first (payload 2.0, simple responses, its result cached for the identity
source's ReauthorizeEvery), then `ApiFunction`'s Lambda handler (Mangum) in its warm worker, with the
payload 2.0 event the HTTP API builds. Answers API Gateway gives itself are API Gateway's: 401 without
the identity source, 403 when the authorizer says no, 500 when a function fails.
"""

from __future__ import annotations

import base64
import json
import socket
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from infra.local.runtime.trace import triggered_by
from infra.local.runtime.worker import FunctionPool, LogSink
from infra.local.template import ACCOUNT_ID, Stack

API_FUNCTION = "ApiFunction"
API_ID = "local"
_TEXT_TYPES = ("text/", "application/json", "application/xml", "application/x-www-form-urlencoded", "+json", "+xml")


@dataclass(frozen=True)
class Route:
    """One `HttpApi` event of the API function."""

    method: str
    path: str
    authorized: bool

    @property
    def key(self) -> str:
        """The route key API Gateway puts in the event."""
        return f"{self.method} {self.path}"

    def matches(self, method: str, path: str) -> bool:
        """True when the request falls on this route (greedy `{proxy+}` last)."""
        if self.method not in ("ANY", method):
            return False
        if self.path.endswith("/{proxy+}"):
            prefix = self.path[: -len("{proxy+}")]
            return path.startswith(prefix) and len(path) > len(prefix)
        return path == self.path


@dataclass(frozen=True)
class Authorizer:
    """The HTTP API's default Lambda authorizer."""

    function: str
    headers: tuple[str, ...]
    ttl: int


def routes_of(stack: Stack) -> list[Route]:
    """The API function's routes, most specific first."""
    events = stack.resources[API_FUNCTION]["Properties"].get("Events", {})
    routes = [
        Route(
            str(e["Properties"].get("Method", "ANY")).upper(),
            str(e["Properties"]["Path"]),
            e["Properties"].get("Auth", {}).get("Authorizer") != "NONE",
        )
        for e in events.values()
        if e.get("Type") == "HttpApi"
    ]
    return sorted(routes, key=lambda r: ("{proxy+}" in r.path, -len(r.path)))


def authorizer_of(stack: Stack) -> Authorizer | None:
    """The default authorizer when it is a Lambda function of the template."""
    apis = stack.of_type("AWS::Serverless::HttpApi")
    for api in apis.values():
        auth = api.get("Properties", {}).get("Auth", {})
        default = auth.get("Authorizers", {}).get(auth.get("DefaultAuthorizer", ""), {})
        function = _function_of(default.get("FunctionArn", {}))
        if function is not None:
            identity = default.get("Identity", {})
            headers = tuple(h.lower() for h in identity.get("Headers", ["Authorization"]))
            return Authorizer(function, headers, int(identity.get("ReauthorizeEvery", 300)))
    return None


def cors_origins(stack: Stack) -> list[str]:
    """The origins the template's HTTP API allows (its CorsConfiguration), which answers CORS in AWS."""
    origins: list[str] = []
    for api in stack.of_type("AWS::Serverless::HttpApi").values():
        config = stack.resolve(api.get("Properties", {}).get("CorsConfiguration") or {})
        allowed = config.get("AllowOrigins", []) if isinstance(config, dict) else []
        origins += [str(o) for o in (allowed if isinstance(allowed, list) else [allowed])]
    return origins


def _function_of(arn: Any) -> str | None:
    """The function an authorizer's FunctionArn names: `!GetAtt Fn.Arn` or its alias, `!Ref Fn.Alias`."""
    if isinstance(arn, dict) and "Fn::GetAtt" in arn:
        return str(arn["Fn::GetAtt"][0])
    if isinstance(arn, dict) and str(arn.get("Ref", "")).endswith(".Alias"):
        return str(arn["Ref"]).removesuffix(".Alias")
    return None


def is_text(content_type: str) -> bool:
    """API Gateway passes text bodies as they are and base64-encodes the rest."""
    return any(t in content_type.lower() for t in _TEXT_TYPES)


class LambdaGateway:
    """An HTTP server on the supervisor's socket that invokes the authorizer and the API function."""

    def __init__(self, sock: socket.socket, stack: Stack, pools: dict[str, FunctionPool], log: LogSink) -> None:
        self.stack = stack
        self.pools = pools
        self.log = log
        self.routes = routes_of(stack)
        self.authorizer = authorizer_of(stack)
        self._cache: dict[tuple[str, ...], tuple[float, dict[str, Any]]] = {}
        self._cache_lock = threading.Lock()
        self._server = ThreadingHTTPServer(sock.getsockname()[:2], _handler(self), bind_and_activate=False)
        self._server.socket.close()
        self._server.socket = sock
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="api-gateway", daemon=True)

    def start(self) -> str | None:
        """Serve in a background thread."""
        self._thread.start()
        return None

    @property
    def alive(self) -> bool:
        """True while serving."""
        return self._thread.is_alive()

    pid: int | None = None
    exit_code: int | None = None

    def reload(self) -> str | None:
        """Nothing to restart: the functions' pools reload themselves."""
        return None

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self._server.shutdown()
        self._server.server_close()

    def handle(self, method: str, target: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, Any]]:
        """One request: the status and the Lambda-shaped response to write."""
        path = urlsplit(target).path
        route = next((r for r in self.routes if r.matches(method, path)), None)
        if route is None:
            return 404, _message("Not Found")
        event = self.event(route, method, target, headers, body)
        with triggered_by(kind="http", source=f"HttpApi {event['routeKey']}"):
            return self._through(route, event)

    def _through(self, route: Route, event: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if route.authorized and self.authorizer is not None:
            denied, context = self.authorize(event)
            if denied is not None:
                return denied, _message("Unauthorized" if denied == 401 else "Forbidden")
            event["requestContext"]["authorizer"] = {"lambda": context}
        outcome = self.pools[API_FUNCTION].invoke(event)
        if not outcome.ok or not isinstance(outcome.result, dict):
            return 500, _message("Internal Server Error")
        return int(outcome.result.get("statusCode", 200)), outcome.result

    def authorize(self, event: dict[str, Any]) -> tuple[int | None, dict[str, Any]]:
        """(None, context) when allowed; (401 or 403, {}) otherwise, as the HTTP API answers."""
        assert self.authorizer is not None
        identity = tuple(event["headers"].get(h, "") for h in self.authorizer.headers)
        if not all(identity):
            return 401, {}  # the identity source is missing: API Gateway does not invoke the authorizer
        with self._cache_lock:
            cached = self._cache.get(identity)
        if cached is not None and cached[0] > time.monotonic():
            return None, cached[1]
        request = {**event, "type": "REQUEST", "identitySource": list(identity)}
        request["routeArn"] = (
            f"arn:aws:execute-api:{self.stack.region}:{ACCOUNT_ID}:{API_ID}/$default/{event['routeKey']}"
        )
        request.pop("body", None)
        outcome = self.pools[self.authorizer.function].invoke(request)
        if not outcome.ok or not isinstance(outcome.result, dict):
            return 403, {}
        if outcome.result.get("isAuthorized") is not True:
            return 403, {}
        context = dict(outcome.result.get("context") or {})
        with self._cache_lock:
            self._cache[identity] = (time.monotonic() + self.authorizer.ttl, context)
        return None, context

    def event(self, route: Route, method: str, target: str, headers: dict[str, str], body: bytes) -> dict[str, Any]:
        """The payload 2.0 event the HTTP API builds for a request."""
        parts = urlsplit(target)
        now = datetime.now(UTC)
        text = is_text(headers.get("content-type", ""))
        event: dict[str, Any] = {
            "version": "2.0",
            "routeKey": route.key,
            "rawPath": parts.path,
            "rawQueryString": parts.query,
            "headers": headers,
            "requestContext": {
                "accountId": ACCOUNT_ID,
                "apiId": API_ID,
                "domainName": headers.get("host", "127.0.0.1"),
                "domainPrefix": API_ID,
                "http": {
                    "method": method,
                    "path": parts.path,
                    "protocol": "HTTP/1.1",
                    "sourceIp": "127.0.0.1",
                    "userAgent": headers.get("user-agent", ""),
                },
                "requestId": str(uuid.uuid4()),
                "routeKey": route.key,
                "stage": "$default",
                "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
                "timeEpoch": int(now.timestamp() * 1000),
            },
            "isBase64Encoded": bool(body) and not text,
        }
        if parts.query:
            event["queryStringParameters"] = _query(parts.query)
        if "cookie" in headers:
            event["cookies"] = [c.strip() for c in headers["cookie"].split(";")]
        if route.path.endswith("/{proxy+}"):
            event["pathParameters"] = {"proxy": parts.path[len(route.path) - len("{proxy+}") :]}
        if body:
            event["body"] = body.decode("utf-8", "replace") if text else base64.b64encode(body).decode()
        return event


def _query(query: str) -> dict[str, str]:
    # Repeated parameters are joined with commas, as the HTTP API does.
    values: dict[str, list[str]] = {}
    for key, value in parse_qsl(query, keep_blank_values=True):
        values.setdefault(key, []).append(value)
    return {k: ",".join(v) for k, v in values.items()}


def _message(text: str) -> dict[str, Any]:
    return {"headers": {"content-type": "application/json"}, "body": json.dumps({"message": text})}


def _handler(gateway: LambdaGateway) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _body(self) -> bytes:
            if "chunked" in self.headers.get("transfer-encoding", "").lower():
                chunks = []
                while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
                    chunks.append(self.rfile.read(size))
                    self.rfile.readline()
                self.rfile.readline()
                return b"".join(chunks)
            length = int(self.headers.get("content-length") or 0)
            return self.rfile.read(length) if length else b""

        def _serve(self) -> None:
            body = self._body()
            headers: dict[str, str] = {}
            for key, value in self.headers.items():  # repeated headers are joined, as the HTTP API does
                key = key.lower()
                headers[key] = f"{headers[key]},{value}" if key in headers else value
            status, reply = gateway.handle(self.command, self.path, headers, body)
            raw = reply.get("body") or ""
            payload = base64.b64decode(raw) if reply.get("isBase64Encoded") else str(raw).encode()
            self.send_response(status)
            for key, value in (reply.get("headers") or {}).items():
                if key.lower() not in ("content-length", "connection", "transfer-encoding"):
                    self.send_header(key, str(value))
            for cookie in reply.get("cookies") or []:
                self.send_header("set-cookie", cookie)
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _serve

        def log_message(self, format: str, *args: Any) -> None:
            """The API function logs each request itself."""

    return Handler
