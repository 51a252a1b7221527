"""HTTP bodies of the catalog import API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from app.domain.catalog_import import CatalogImport, ImportStatus


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
    status: ImportStatus
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
            status=record.status,
            rows_read=p.rows_read,
            rows_imported=p.rows_imported,
            rows_rejected=p.rows_rejected,
            errors=[RowErrorOut(line=e.line, reason=e.reason) for e in record.errors],
            reason=record.reason,
            created_at=record.created_at,
            updated_at=record.updated_at,
            completed_at=record.completed_at,
        )
