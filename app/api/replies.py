"""The JSON reply of a route: its response model, by alias, serialised once."""

from __future__ import annotations

from pydantic import BaseModel
from starlette.responses import Response


def reply(
    model: BaseModel, status_code: int = 200, headers: dict[str, str] | None = None, exclude_none: bool = False
) -> Response:
    """What FastAPI sends for a returned model, without validating the model it has just built again."""
    body = model.model_dump_json(by_alias=True, exclude_none=exclude_none)
    return Response(body, status_code=status_code, headers=headers, media_type="application/json")
