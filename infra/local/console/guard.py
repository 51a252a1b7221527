"""The console answers only pages asked for by name on loopback, and actions posted from its own pages."""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Receive, Scope, Send

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]")
SAFE_METHODS = ("GET", "HEAD")


class LoopbackOnly:
    """Refuse a Host that is not loopback (DNS rebinding) and a cross-site form post (CSRF)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check, then pass the request on."""
        if scope["type"] == "http":
            headers = Headers(scope=scope)
            host = headers.get("host", "")
            if host.rsplit(":", 1)[0] not in LOOPBACK_HOSTS:
                await PlainTextResponse("the console answers on loopback only", 403)(scope, receive, send)
                return
            origin = headers.get("origin")
            if scope["method"] not in SAFE_METHODS and origin is not None and origin != f"http://{host}":
                await PlainTextResponse("actions are taken from the console's own pages", 403)(scope, receive, send)
                return
        await self.app(scope, receive, send)
