"""/products/imports: admins bulk-import the catalog from a CSV uploaded to S3."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, status
from pydantic import BaseModel, ConfigDict, Field

from app.api.deps import CurrentPrincipal, container
from app.api.problems import error_replies
from app.bootstrap import Container
from app.domain.catalog_import import HEADER, CatalogImport
from app.services.catalog_import import CatalogImportService

router = APIRouter(prefix="/products/imports", tags=["products"])


async def import_service(c: Annotated[Container, Depends(container)]) -> CatalogImportService:
    """The catalog import use cases."""
    return c.catalog_imports


Imports = Annotated[CatalogImportService, Depends(import_service)]
ImportId = Annotated[str, Path(pattern=r"^[a-f0-9]{32}$", description="Import id")]


class ImportCreate(BaseModel):
    """Body of POST /products/imports: the exact size of the file to upload."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    content_length: int = Field(alias="contentLength", ge=0, description="Bytes; the upload must be exactly this")


class ImportTicket(BaseModel):
    """Where to upload the file: PUT it with `Content-Type: text/csv` before `expiresAt`."""

    import_id: str = Field(serialization_alias="importId")
    upload_url: str = Field(serialization_alias="uploadUrl")
    expires_at: datetime = Field(serialization_alias="expiresAt")


class RowErrorOut(BaseModel):
    """A rejected line."""

    line: int
    reason: str


class ImportOut(BaseModel):
    """An import's status, counters and first errors."""

    import_id: str = Field(serialization_alias="importId")
    status: str
    rows_read: int = Field(serialization_alias="rowsRead")
    rows_imported: int = Field(serialization_alias="rowsImported")
    rows_rejected: int = Field(serialization_alias="rowsRejected")
    errors: list[RowErrorOut]
    reason: str | None = None
    created_at: datetime = Field(serialization_alias="createdAt")
    updated_at: datetime = Field(serialization_alias="updatedAt")
    completed_at: datetime | None = Field(None, serialization_alias="completedAt")

    @classmethod
    def of(cls, record: CatalogImport) -> ImportOut:
        """From the domain entity."""
        p = record.progress
        return cls(
            import_id=record.id,
            status=record.status.value,
            rows_read=p.rows_read,
            rows_imported=p.rows_imported,
            rows_rejected=p.rows_rejected,
            errors=[RowErrorOut(line=e.line, reason=e.reason) for e in record.errors],
            reason=record.reason,
            created_at=record.created_at,
            updated_at=record.updated_at,
            completed_at=record.completed_at,
        )


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
