"""AWS Lambda entrypoint of the API: API Gateway events through Mangum."""

from __future__ import annotations

from typing import Any

from mangum import Mangum
from mangum.adapter import DEFAULT_TEXT_MIME_TYPES
from starlette.types import ASGIApp, Receive, Scope, Send

from app.api.main import create_app
from app.api.problems import PROBLEM
from app.observability import logger, traced


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
    return Mangum(StagePrefix(app), lifespan="off", text_mime_types=[*DEFAULT_TEXT_MIME_TYPES, PROBLEM])


app = create_app()
_asgi = mangum(app)


@traced
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Lambda handler."""
    logger.set_correlation_id((event.get("requestContext") or {}).get("requestId"))
    return _asgi(event, context)
