"""Builds the catalog import service; mixed into app.bootstrap.Container and the workers' container."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any

from app.settings import Settings

if TYPE_CHECKING:
    from app.services.catalog_import import CatalogImportService, ImportLimits, ImportSweeper


def _now() -> datetime:
    return datetime.now(UTC)


class ImportServices:
    """The catalog import use cases, built on first use."""

    # Provided by the container this is mixed into.
    settings: Settings
    dynamodb: Any
    client: Callable[..., Any]

    @cached_property
    def catalog_imports(self) -> CatalogImportService:
        """Create, read and run catalog imports."""
        from app.adapters.dynamo_imports import DynamoImportRepository
        from app.adapters.s3_imports import S3ImportStore, SqsContinuationQueue
        from app.services.catalog_import import CatalogImportService

        s = self.settings
        # SigV4 so that Content-Type and Content-Length are part of the presigned PUT's signature.
        s3 = self.client("s3", "s3v4")
        return CatalogImportService(
            imports=DynamoImportRepository(self.dynamodb, s.imports_table, s.products_table),
            store=S3ImportStore(s3, s.imports_bucket, _now),
            queue=SqsContinuationQueue(self.client("sqs"), s.import_continue_queue_url),
            clock=_now,
            limits=self.import_limits,
        )

    @cached_property
    def import_limits(self) -> ImportLimits:
        """Sizes, deadlines and chunking of imports."""
        from app.services.catalog_import import ImportLimits

        s = self.settings
        return ImportLimits(
            max_bytes=s.import_max_bytes,
            url_ttl_seconds=s.import_url_ttl_seconds,
            reserve_ms=s.import_reserve_ms,
            chunk_rows=s.import_chunk_rows,
            stall_minutes=s.import_stall_minutes,
        )

    @cached_property
    def import_sweeper(self) -> ImportSweeper:
        """Fails imports stuck past their deadline (run by the daily cleanup); needs only the imports table."""
        from app.adapters.dynamo_imports import DynamoImportRepository
        from app.services.catalog_import import ImportSweeper

        s = self.settings
        return ImportSweeper(
            DynamoImportRepository(self.dynamodb, s.imports_table, s.products_table), _now, self.import_limits
        )
