"""GET /health."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from app.api.deps import container_of
from app.api.schemas.health import HealthOut

router = APIRouter(tags=["health"])


@router.get(
    "/health",
    response_model=HealthOut,
    responses={503: {"model": HealthOut, "description": "A backing service is down: `checks` says which"}},
)
async def health(request: Request) -> JSONResponse:
    """200 when the backing services answer, 503 when DynamoDB does not."""
    report = container_of(request).health()
    body = {"status": "ok" if report.healthy else "unavailable", "checks": report.checks}
    return JSONResponse(body, status_code=200 if report.healthy else 503)
