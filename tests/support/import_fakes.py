"""In-memory fakes of the catalog import ports: records, the uploaded objects, the continuation queue."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from app.domain.catalog_import import CatalogImport, ImportStatus
from app.services.ports.imports import (
    Chunk,
    Download,
    ImportSuperseded,
    ObjectChanged,
    ObjectRef,
    ObjectUnreadable,
    UploadUrl,
)
from tests.support.fakes import FakeClock


@dataclass
class InMemoryImports:
    """Import records with the adapter's conditional rules (claim once, checkpoint moves forward only)."""

    records: dict[str, CatalogImport] = field(default_factory=dict)

    def create(self, record: CatalogImport, expires_at: datetime) -> None:
        self.records[record.id] = record

    def get(self, import_id: str) -> CatalogImport | None:
        return self.records.get(import_id)

    def claim(self, import_id: str, etag: str, now: datetime) -> bool:
        record = self.records[import_id]
        if record.status is not ImportStatus.PENDING:
            return False
        self.records[import_id] = replace(record, status=ImportStatus.RUNNING, etag=etag, updated_at=now)
        return True

    def commit(self, import_id: str, etag: str, before: object, chunk: Chunk, now: datetime) -> None:
        record = self.records[import_id]
        if record.status is not ImportStatus.RUNNING or record.etag != etag or record.progress != before:
            raise ImportSuperseded(import_id)
        status = ImportStatus.COMPLETED if chunk.done else ImportStatus.RUNNING
        errors = [*record.errors, *chunk.errors]
        self.records[import_id] = replace(record, status=status, progress=chunk.progress, errors=errors, updated_at=now)

    def fail(self, import_id: str, etag: str, reason: str, now: datetime) -> None:
        record = self.records[import_id]
        if record.status is ImportStatus.RUNNING and record.etag == etag:
            self.records[import_id] = replace(record, status=ImportStatus.FAILED, reason=reason, updated_at=now)

    def unfinished(self, updated_before: datetime) -> Iterator[CatalogImport]:
        live = (ImportStatus.PENDING, ImportStatus.RUNNING)
        return iter([r for r in self.records.values() if r.status in live and r.updated_at < updated_before])

    def expire(self, record: CatalogImport, reason: str, now: datetime) -> bool:
        current = self.records[record.id]
        if (current.status, current.updated_at) != (record.status, record.updated_at):
            return False
        self.records[record.id] = replace(current, status=ImportStatus.FAILED, reason=reason, updated_at=now)
        return True


@dataclass
class InMemoryBucket:
    """Uploaded objects by key, each with its ETag and Content-Type."""

    bucket: str = "imports-bucket"
    objects: dict[str, tuple[bytes, str, str]] = field(default_factory=dict)
    clock: FakeClock = field(default_factory=FakeClock)

    def upload_url(self, key: str, content_length: int, expires_in: int) -> UploadUrl:
        return UploadUrl(
            f"https://{self.bucket}.invalid/{key}?length={content_length}", self.clock() + timedelta(seconds=expires_in)
        )

    def open(self, ref: ObjectRef, offset: int) -> Download:
        if ref.bucket != self.bucket or ref.key not in self.objects:
            raise ObjectUnreadable(ref.key)
        body, etag, content_type = self.objects[ref.key]
        if etag != ref.etag:
            raise ObjectChanged(ref.key)
        return Download(content_type, iter([body[offset:]]), len(body))


@dataclass
class RecordingContinuations:
    """The continuation messages sent."""

    sent: list[tuple[str, ObjectRef]] = field(default_factory=list)

    def send(self, import_id: str, ref: ObjectRef) -> None:
        self.sent.append((import_id, ref))
