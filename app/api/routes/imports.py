"""/products/imports: admins bulk-import the catalog from a CSV uploaded to S3."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response, status

from app.api import deps
from app.api.openapi import error_replies
from app.api.replies import reply
from app.api.schemas.imports import ImportCreate, ImportOut, ImportTicket
from app.domain.catalog_import import HEADER

router = APIRouter(prefix="/products/imports", tags=["products"])


ImportId = Annotated[str, Path(pattern=r"^[a-f0-9]{32}$", description="Import id")]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=ImportTicket,
    response_model_by_alias=True,
    description=f"Upload a CSV with the header `{HEADER}` (price in minor units) to `uploadUrl`.",
    responses=error_replies(r422="`contentLength` is over this deployment's limit (the schema's maximum)"),
)
async def create_import(body: ImportCreate, request: Request) -> Response:
    """Start an import (admin): a presigned PUT for the file."""
    deps.caller(request).require_admin()
    record, upload = deps.imports(request).create(body.content_length)
    ticket = ImportTicket(import_id=record.id, upload_url=upload.url, expires_at=upload.expires_at)
    return reply(ticket, status.HTTP_201_CREATED)


@router.get("/{import_id}", response_model=ImportOut, response_model_by_alias=True, response_model_exclude_none=True)
async def get_import(import_id: ImportId, request: Request) -> Response:
    """An import's progress (admin)."""
    deps.caller(request).require_admin()
    return reply(ImportOut.of(deps.imports(request).get(import_id)), exclude_none=True)
