"""Ports of the catalog import use cases."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from app.domain.catalog_import import CatalogImport, ImportProgress, ImportRow, RowError


@dataclass(frozen=True)
class ObjectRef:
    """The uploaded object an S3 event names."""

    bucket: str
    key: str
    etag: str
    size: int


@dataclass(frozen=True)
class UploadUrl:
    """A presigned PUT and when it expires."""

    url: str
    expires_at: datetime


@dataclass(frozen=True)
class Download:
    """An object's Content-Type, its whole size, and its bytes (from some offset), streamed in chunks."""

    content_type: str
    chunks: Iterator[bytes]
    size: int


@dataclass(frozen=True)
class Chunk:
    """The rows between two checkpoints and the progress after them."""

    rows: list[ImportRow]
    errors: list[RowError]
    progress: ImportProgress
    done: bool


class ImportSuperseded(Exception):
    """Another invocation moved the import's checkpoint first: it owns the import now."""


class ObjectChanged(Exception):
    """The object no longer has the ETag the import is bound to."""


class ObjectUnreadable(Exception):
    """The object does not exist (any more) or may not be read."""


class ImportRepository(Protocol):
    """Import records, and the chunk commit that upserts products and moves the checkpoint together."""

    def create(self, record: CatalogImport, expires_at: datetime) -> None:
        """Store a new PENDING import."""

    def get(self, import_id: str) -> CatalogImport | None:
        """The import, read consistently."""

    def claim(self, import_id: str, etag: str, now: datetime) -> bool:
        """PENDING -> RUNNING bound to the object's ETag; False when it was not PENDING."""

    def commit(self, import_id: str, etag: str, before: ImportProgress, chunk: Chunk, now: datetime) -> None:
        """Upsert the rows (stock ADDed) and advance the checkpoint, all or nothing; ImportSuperseded on a race."""

    def fail(self, import_id: str, etag: str, reason: str, now: datetime) -> None:
        """RUNNING -> FAILED with its reason."""

    def unfinished(self, updated_before: datetime) -> Iterator[CatalogImport]:
        """Every PENDING or RUNNING import last changed before the cutoff."""

    def expire(self, record: CatalogImport, reason: str, now: datetime) -> bool:
        """PENDING or RUNNING -> FAILED, only if unchanged since `record` was read; False otherwise."""


class ImportStore(Protocol):
    """Where files are uploaded: one bucket."""

    bucket: str

    def upload_url(self, key: str, content_length: int, expires_in: int) -> UploadUrl:
        """A presigned PUT for `key`: text/csv of exactly `content_length` bytes."""

    def open(self, ref: ObjectRef, offset: int) -> Download:
        """The object's bytes from `offset`; ObjectChanged when its ETag differs, ObjectUnreadable if gone."""


class ContinuationQueue(Protocol):
    """Where an import that ran short of time asks for a follow-up invocation."""

    def send(self, import_id: str, ref: ObjectRef) -> None:
        """Enqueue a continuation of the import."""
