"""/products/imports: admins bulk-import the catalog from a CSV uploaded to S3."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, status

from app.api.deps import CurrentPrincipal, Imports
from app.api.problems import error_replies
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
async def create_import(body: ImportCreate, imports: Imports, caller: CurrentPrincipal) -> ImportTicket:
    """Start an import (admin): a presigned PUT for the file."""
    caller.require_admin()
    record, upload = imports.create(body.content_length)
    return ImportTicket(import_id=record.id, upload_url=upload.url, expires_at=upload.expires_at)


@router.get("/{import_id}", response_model=ImportOut, response_model_by_alias=True, response_model_exclude_none=True)
async def get_import(import_id: ImportId, imports: Imports, caller: CurrentPrincipal) -> ImportOut:
    """An import's progress (admin)."""
    caller.require_admin()
    return ImportOut.of(imports.get(import_id))
