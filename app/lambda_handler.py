"""AWS Lambda entrypoint of the API: API Gateway events through Mangum."""

from __future__ import annotations

from app import coldstart  # isort: skip - first: the GC pauses for the init (app/coldstart.py)
import warnings
from typing import Any

from mangum import Mangum
from mangum.adapter import DEFAULT_TEXT_MIME_TYPES
from starlette.types import ASGIApp, Receive, Scope, Send

from app.api.main import create_app
from app.api.middleware import PRIMING_MARK
from app.api.problems import PROBLEM
from app.bootstrap import get_container
from app.bootstrap.snapstart import after_restore, eager_init, refresh_after_restore
from app.observability import entrypoint


class StagePrefix:
    """Route `/{stage}/...` paths and serve /docs under the API Gateway stage.

    HTTP API events carry the stage in rawPath for named stages; REST events do not.
    Setting root_path lets Starlette strip it for routing and lets /docs link to
    `/{stage}/openapi.json`, the URL the browser can actually reach.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one request."""
        event = scope.get("aws.event") or {}
        stage = (event.get("requestContext") or {}).get("stage")
        if scope["type"] == "http" and stage and stage != "$default":
            prefix = f"/{stage}"
            path = scope["path"]
            if not (path == prefix or path.startswith(prefix + "/")):
                path = prefix + path
            scope = {**scope, "root_path": prefix, "path": path}
        await self.app(scope, receive, send)


def mangum(app: ASGIApp) -> Mangum:
    """The Lambda adapter of an ASGI app, as this function runs it."""
    # Mangum base64-encodes any type it does not know as text; problem+json is text.
    with warnings.catch_warnings():
        # Mangum asks asyncio for the current loop; Python 3.12 warns when none is set yet, and still makes one.
        warnings.simplefilter("ignore", DeprecationWarning)
        return Mangum(StagePrefix(app), lifespan="off", text_mime_types=[*DEFAULT_TEXT_MIME_TYPES, PROBLEM])


# An admin reading a user that does not exist (a read: it changes nothing): it builds routing, validation,
# the edge caller, the DynamoDB client and its connection, and the problem reply, then answers 404 (401
# where the edge authorizer is not trusted).
PRIMING_USER = "snapstart-priming"
# Sent more than once: the first request after one priming request took 1.27x a warm one, after three 1.15x
# (a reused pooled connection, botocore's and our own paths run again; docs/performance.md).
PRIMING_REQUESTS = 3


def prime(asgi: Mangum) -> int:
    """Do at init what the first request would: every use case, the cursor key, requests through FastAPI."""
    container = get_container()
    for use_case in ("users", "catalog", "orders", "catalog_imports", "analytics"):
        getattr(container, use_case)
    container.cursor_key()  # a Secrets Manager read in AWS
    if not container.settings.trust_gateway_authorizer:
        container.tokens.keys.key_for({})
    no_invocation: Any = None  # none exists at init; Mangum only passes the context on in the scope
    event = priming_event()
    replies = [asgi(event, no_invocation) for _ in range(PRIMING_REQUESTS)]
    return int(replies[-1]["statusCode"])


def priming_event() -> dict[str, Any]:
    """An admin's GET of a user that does not exist, as API Gateway would send it, marked as no traffic."""
    caller = {"userId": PRIMING_USER, "role": "admin", "exp": 2**31}
    return {
        "version": "2.0",
        "rawPath": f"/users/{PRIMING_USER}",
        "rawQueryString": "",
        "headers": {"host": "snapstart.priming"},
        "requestContext": {
            "http": {"method": "GET", "path": f"/users/{PRIMING_USER}", "sourceIp": "127.0.0.1"},
            "requestId": "snapstart-priming",
            "stage": "$default",
            "authorizer": {"lambda": caller},
        },
        "isBase64Encoded": False,
        PRIMING_MARK: True,  # no traffic: not in the request metrics the alarms read
    }


app = create_app()
_asgi = mangum(app)
if eager_init():
    prime(_asgi)
    # The init verifies no token successfully, so the verifier has none remembered to carry into a restore.
    after_restore(refresh_after_restore)
    coldstart.resume()  # the init ends here, before the snapshot: no first reply to wait for


@entrypoint
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Lambda handler."""
    # The correlation id (API Gateway's request id) is set by the middleware, which every request goes through.
    return _asgi(event, context)
