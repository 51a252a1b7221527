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
    STALLED,
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
from app.services.ports.common import Clock
from app.services.ports.imports import (
    Chunk,
    ContinuationQueue,
    Download,
    ImportRepository,
    ImportStore,
    ImportSuperseded,
    ObjectChanged,
    ObjectRef,
    ObjectUnreadable,
    UploadUrl,
)

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
    # An import with no progress for this long (after its upload URL expired) is failed as "stalled".
    stall_minutes: int = 60


@dataclass(frozen=True)
class ImportOutcome:
    """What one invocation did: completed, continued, failed, duplicate, superseded, ignored..."""

    outcome: str
    import_id: str | None = None
    progress: ImportProgress | None = None
    error: Exception | None = None  # the unexpected error that failed the import, for the worker's log


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
        record = CatalogImport(
            import_id, ImportStatus.PENDING, object_key(import_id), now, now, declared_bytes=content_length
        )
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
        # Only the imports bucket: an event naming any other bucket is never read, whatever its key says.
        record = self.imports.get(import_id) if import_id and ref.bucket == self.store.bucket else None
        if import_id is None or record is None:
            return ImportOutcome("ignored", import_id)
        download = None
        if record.status is ImportStatus.PENDING:
            try:
                # Readable first, claimed second: a bad event must not bind the import to an object it cannot read.
                download = self.store.open(ref, 0)
            except (ObjectUnreadable, ObjectChanged):
                return ImportOutcome("unreadable", import_id)
            record = self._claim(record, ref)
        if record.etag != ref.etag or record.status is not ImportStatus.RUNNING:
            _close(download)
            outcome = "other-object" if record.etag != ref.etag else "duplicate"
            return ImportOutcome(outcome, import_id, record.progress)
        return self._guarded(record, ref, remaining_ms, download)

    def _claim(self, record: CatalogImport, ref: ObjectRef) -> CatalogImport:
        if self.imports.claim(record.id, ref.etag, self.clock()):
            return replace(record, status=ImportStatus.RUNNING, etag=ref.etag)
        return self.get(record.id)  # a concurrent delivery claimed it

    def _guarded(
        self, record: CatalogImport, ref: ObjectRef, remaining_ms: Callable[[], int], download: Download | None
    ) -> ImportOutcome:
        """Resume the import; whatever goes wrong ends it FAILED with a reason, never left RUNNING."""
        try:
            return self._resume(record, ref, remaining_ms, download)
        except ObjectChanged:
            return self._fail(record.id, ref, "the file was replaced during the import")
        except ObjectUnreadable:
            return self._fail(record.id, ref, "the file can no longer be read (deleted or access denied)")
        except ImportSuperseded:
            return ImportOutcome("superseded", record.id)
        except Exception as exc:  # noqa: BLE001 - an import must end; the daily sweep catches a failing fail()
            failed = self._fail(record.id, ref, f"the import stopped on an unexpected error ({type(exc).__name__})")
            return replace(failed, error=exc)

    def _resume(
        self, record: CatalogImport, ref: ObjectRef, remaining_ms: Callable[[], int], download: Download | None
    ) -> ImportOutcome:
        import_id, progress = record.id, record.progress
        download = download or self.store.open(ref, progress.offset)
        problem = self._size_problem(record, download.size)
        if problem:
            _close(download)
            return self._fail(import_id, ref, problem)
        if download.size == 0:
            _close(download)
            empty = RowError(1, f"the file is empty: expected the header {HEADER}")
            chunk = Chunk([], [empty], replace(progress, errors_kept=1), done=True)
            self.imports.commit(import_id, ref.etag, progress, chunk, self.clock())
            return ImportOutcome("completed", import_id, chunk.progress)
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
            _close(download)

    def _size_problem(self, record: CatalogImport, size: int) -> str | None:
        if size > self.limits.max_bytes:
            return f"the file is {size} bytes; the limit is {self.limits.max_bytes}"
        # S3 refuses a presigned PUT of another length; a local or misconfigured store might not.
        if record.declared_bytes is not None and size != record.declared_bytes:
            return f"the file is {size} bytes, but {record.declared_bytes} were declared"
        return None

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


class ImportSweeper:
    """The safety net: no import stays PENDING or RUNNING for good (a crashed worker, a lost event)."""

    def __init__(self, imports: ImportRepository, clock: Clock, limits: ImportLimits) -> None:
        self.imports = imports
        self.clock = clock
        self.limits = limits

    def sweep(self) -> int:
        """Fail, with the reason "stalled", every unfinished import unchanged past the deadline; their count."""
        now = self.clock()
        # Past the upload URL's expiry no upload can start, and a live import checkpoints far more often.
        idle = timedelta(seconds=self.limits.url_ttl_seconds, minutes=self.limits.stall_minutes)
        return sum(self.imports.expire(record, STALLED, now) for record in self.imports.unfinished(now - idle))


def _close(download: Download | None) -> None:
    """Release the HTTP stream of a download that is not read to its end."""
    if download is not None:
        close = getattr(download.chunks, "close", None)
        if close is not None:
            close()


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
