"""Builds the catalog import service; mixed into app.bootstrap.Container and the workers' container."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any

from app.settings import Settings

if TYPE_CHECKING:
    from app.services.catalog_import import CatalogImportService


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
        from app.services.catalog_import import CatalogImportService, ImportLimits

        s = self.settings
        # SigV4 so that Content-Type and Content-Length are part of the presigned PUT's signature.
        s3 = self.client("s3", "s3v4")
        limits = ImportLimits(
            max_bytes=s.import_max_bytes,
            url_ttl_seconds=s.import_url_ttl_seconds,
            reserve_ms=s.import_reserve_ms,
            chunk_rows=s.import_chunk_rows,
        )
        return CatalogImportService(
            imports=DynamoImportRepository(self.dynamodb, s.imports_table, s.products_table),
            store=S3ImportStore(s3, s.imports_bucket, _now),
            queue=SqsContinuationQueue(self.client("sqs"), s.import_continue_queue_url),
            clock=_now,
            limits=limits,
        )
