"""Bulk catalog import: presigned upload, then a streamed, checkpointed, exactly-once import of the file."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import timedelta

from app.domain.catalog_import import (
    COLUMNS,
    ERRORS_KEPT,
    HEADER,
    CatalogImport,
    ImportProgress,
    ImportRow,
    ImportStatus,
    RowError,
    header_columns,
    import_id_of,
    object_key,
    parse_row,
)
from app.domain.errors import NotFound, ValidationError
from app.services.csv_records import Record, records
from app.services.import_ports import (
    Chunk,
    ContinuationQueue,
    ImportRepository,
    ImportStore,
    ImportSuperseded,
    ObjectChanged,
    ObjectRef,
    UploadUrl,
)
from app.services.ports import Clock

RECORD_DAYS = 30
CSV_TYPE = "text/csv"
# 100 reasons of at most this length keep the import record far below DynamoDB's 400 KB item limit.
REASON_MAX = 300


@dataclass(frozen=True)
class ImportLimits:
    """Upload size and URL lifetime; rows per chunk (one transaction) and the time kept in reserve."""

    max_bytes: int
    url_ttl_seconds: int
    reserve_ms: int
    chunk_rows: int = 99
    chunk_lines: int = 1000


@dataclass(frozen=True)
class ImportOutcome:
    """What one invocation did: completed, continued, failed, duplicate, superseded, ignored..."""

    outcome: str
    import_id: str | None = None
    progress: ImportProgress | None = None


class CatalogImportService:
    """Create imports and run them, chunk by chunk, from the uploaded file."""

    def __init__(
        self,
        imports: ImportRepository,
        store: ImportStore,
        queue: ContinuationQueue,
        clock: Clock,
        limits: ImportLimits,
        new_id: Callable[[], str] = lambda: uuid.uuid4().hex,
    ) -> None:
        self.imports = imports
        self.store = store
        self.queue = queue
        self.clock = clock
        self.limits = limits
        self.new_id = new_id

    def create(self, content_length: int) -> tuple[CatalogImport, UploadUrl]:
        """A PENDING import and the presigned PUT its file goes to."""
        if not 0 <= content_length <= self.limits.max_bytes:
            message = f"must be 0-{self.limits.max_bytes} bytes"
            raise ValidationError("the file is too large", [{"field": "contentLength", "message": message}])
        now = self.clock()
        import_id = self.new_id()
        record = CatalogImport(import_id, ImportStatus.PENDING, object_key(import_id), now, now)
        upload = self.store.upload_url(record.object_key, content_length, self.limits.url_ttl_seconds)
        self.imports.create(record, now + timedelta(days=RECORD_DAYS))
        return record, upload

    def get(self, import_id: str) -> CatalogImport:
        """The import, or NotFound."""
        record = self.imports.get(import_id)
        if record is None:
            raise NotFound(f"import {import_id} not found")
        return record

    def run(self, ref: ObjectRef, remaining_ms: Callable[[], int]) -> ImportOutcome:
        """Import from the checkpoint on; hand over to a continuation when time runs short."""
        import_id = import_id_of(ref.key)
        record = self.imports.get(import_id) if import_id else None
        if import_id is None or record is None:
            return ImportOutcome("ignored", import_id)
        if record.status is ImportStatus.PENDING and not self.imports.claim(import_id, ref.etag, self.clock()):
            record = self.get(import_id)  # a concurrent delivery claimed it
        elif record.status is ImportStatus.PENDING:
            record = replace(record, status=ImportStatus.RUNNING, etag=ref.etag)
        if record.etag != ref.etag:
            return ImportOutcome("other-object", import_id)
        if record.status is not ImportStatus.RUNNING:
            return ImportOutcome("duplicate", import_id, record.progress)
        try:
            return self._resume(import_id, ref, record.progress, remaining_ms)
        except ObjectChanged:
            self.imports.fail(import_id, ref.etag, "the file was replaced during the import", self.clock())
            return ImportOutcome("failed", import_id)
        except ImportSuperseded:
            return ImportOutcome("superseded", import_id)

    def _resume(
        self, import_id: str, ref: ObjectRef, progress: ImportProgress, remaining_ms: Callable[[], int]
    ) -> ImportOutcome:
        if ref.size > self.limits.max_bytes:
            return self._fail(import_id, ref, f"the file is {ref.size} bytes; the limit is {self.limits.max_bytes}")
        if ref.size == 0:
            empty = RowError(1, f"the file is empty: expected the header {HEADER}")
            chunk = Chunk([], [empty], replace(progress, errors_kept=1), done=True)
            self.imports.commit(import_id, ref.etag, progress, chunk, self.clock())
            return ImportOutcome("completed", import_id, chunk.progress)
        download = self.store.open(ref, progress.offset)
        chunks = download.chunks
        try:
            if progress.offset == 0:
                first = next(chunks, b"")
                problem = _not_csv(download.content_type, first)
                if problem:
                    return self._fail(import_id, ref, problem)
                chunks = _prepend(first, chunks)
            return self._import(import_id, ref, progress, records(chunks, progress.offset, progress.line), remaining_ms)
        finally:
            download.chunks.close()  # type: ignore[attr-defined]  # a generator: releases the HTTP stream

    def _import(
        self,
        import_id: str,
        ref: ObjectRef,
        progress: ImportProgress,
        stream: Iterator[Record],
        remaining_ms: Callable[[], int],
    ) -> ImportOutcome:
        builder = ChunkBuilder(progress, self.limits)
        for chunk in builder.chunks(stream):
            self.imports.commit(import_id, ref.etag, progress, chunk, self.clock())
            progress = chunk.progress
            if chunk.done:
                return ImportOutcome("completed", import_id, progress)
            if remaining_ms() < self.limits.reserve_ms:
                self.queue.send(import_id, ref)
                return ImportOutcome("continued", import_id, progress)
        raise AssertionError("ChunkBuilder always ends with a done chunk")  # pragma: no cover

    def _fail(self, import_id: str, ref: ObjectRef, reason: str) -> ImportOutcome:
        self.imports.fail(import_id, ref.etag, reason, self.clock())
        return ImportOutcome("failed", import_id)


def _not_csv(content_type: str, head: bytes) -> str | None:
    kind = content_type.split(";", 1)[0].strip().lower()
    if kind != CSV_TYPE:
        return f"the file is not CSV: its Content-Type is {content_type or 'missing'}, not {CSV_TYPE}"
    if b"\x00" in head:
        return "the file is not CSV: it holds binary data"
    return None


def _prepend(first: bytes, rest: Iterator[bytes]) -> Iterator[bytes]:
    yield first
    yield from rest


class ChunkBuilder:
    """Groups records into chunks: at most `chunk_rows` distinct products, or `chunk_lines` records."""

    def __init__(self, progress: ImportProgress, limits: ImportLimits) -> None:
        self.progress = progress
        self.limits = limits
        self.rows: list[ImportRow] = []
        self.errors: list[RowError] = []
        self.ids: set[str] = set()
        self.records = 0

    def chunks(self, stream: Iterator[Record]) -> Iterator[Chunk]:
        """The chunks, the last one marked done."""
        for record in stream:
            row = self._row(record)
            if row is not None and row.product_id in self.ids:
                yield self._take()  # one transaction cannot touch a product twice
            if row is not None:
                self.rows.append(row)
                self.ids.add(row.product_id)
            self._advance(record, imported=row is not None)
            if len(self.rows) >= self.limits.chunk_rows or self.records >= self.limits.chunk_lines:
                yield self._take()
        yield replace(self._take(), done=True)

    def _row(self, record: Record) -> ImportRow | None:
        if record.blank:
            return None
        p = self.progress
        if record.error is not None:
            self._reject(record.line, record.error)
            return None
        fields = record.fields or []
        if p.columns is None and record.line == 1:
            columns = header_columns(fields)
            self.progress = replace(p, columns=columns or COLUMNS)
            if columns is None:
                self._reject(record.line, f"wrong header: expected {HEADER}, got {','.join(fields)[:200]}")
            return None
        try:
            return parse_row(record.line, fields, p.columns or COLUMNS)
        except ValidationError as exc:
            self._reject(record.line, exc.detail)
            return None

    def _reject(self, line: int, reason: str) -> None:
        p = self.progress
        if p.errors_kept < ERRORS_KEPT:
            self.errors.append(
                RowError(line, reason if len(reason) <= REASON_MAX else reason[: REASON_MAX - 3] + "...")
            )
            p = replace(p, errors_kept=p.errors_kept + 1)
        self.progress = replace(p, rows_read=p.rows_read + 1, rows_rejected=p.rows_rejected + 1)
        return None

    def _advance(self, record: Record, *, imported: bool) -> None:
        p = self.progress
        counted = imported and not record.blank
        self.progress = replace(
            p,
            offset=record.end,
            line=record.last,
            rows_read=p.rows_read + counted,
            rows_imported=p.rows_imported + counted,
        )
        self.records += 1

    def _take(self) -> Chunk:
        chunk = Chunk(self.rows, self.errors, self.progress, done=False)
        self.rows, self.errors, self.ids, self.records = [], [], set(), 0
        return chunk
