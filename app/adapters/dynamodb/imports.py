"""DynamoDB implementation of ImportRepository.

A chunk is ONE TransactWriteItems: each product is created (Put, attribute_not_exists) or updated
(Update, attribute_exists: name and price SET, stock ADDed), and the import's checkpoint moves from
the offset the chunk started at to the one it ends at. Either all of it happens or none, so a
re-delivered event or a retried invocation resumes at the checkpoint and never adds stock twice.
BatchWriteItem cannot do this: a batch Put replaces the whole product item (wiping the stock that
orders hold) and takes no condition.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from app.adapters.aws_errors import (
    CONDITION_FAILED,
    TRANSACTION_CANCELLED,
    cancellation_codes,
    error_code,
    is_condition_failed,
    is_transient,
)
from app.adapters.dynamodb import product_items, writes
from app.adapters.dynamodb.items import from_item, to_item
from app.domain.catalog_import import CatalogImport, ImportProgress, ImportRow, ImportStatus, RowError
from app.domain.errors import ServiceUnavailable
from app.domain.money import Money
from app.services.ports.imports import Chunk, ImportSuperseded

_ATTEMPTS = 6
_BACKOFF_SECONDS = 0.05


def to_import(item: dict[str, Any]) -> CatalogImport:
    """An import from its DynamoDB item."""
    v = from_item(item)
    columns = v.get("columns")
    progress = ImportProgress(
        offset=int(v.get("offset", 0)),
        line=int(v.get("line", 0)),
        rows_read=int(v.get("rowsRead", 0)),
        rows_imported=int(v.get("rowsImported", 0)),
        rows_rejected=int(v.get("rowsRejected", 0)),
        errors_kept=len(v.get("errors", [])),
        columns=tuple(columns) if columns else None,
    )
    completed = v.get("completedAt")
    return CatalogImport(
        id=v["importId"],
        status=ImportStatus(v["status"]),
        object_key=v["objectKey"],
        created_at=datetime.fromisoformat(v["createdAt"]),
        updated_at=datetime.fromisoformat(v["updatedAt"]),
        etag=v.get("etag"),
        progress=progress,
        errors=[RowError(int(e["line"]), e["reason"]) for e in v.get("errors", [])],
        reason=v.get("reason"),
        completed_at=datetime.fromisoformat(completed) if completed else None,
        declared_bytes=int(v["declaredBytes"]) if "declaredBytes" in v else None,
    )


class DynamoImportRepository:
    """Imports keyed by importId; chunks also write the products table."""

    def __init__(self, client: Any, table: str, products_table: str, sleep: Any = time.sleep) -> None:
        self.client = client
        self.table = table
        self.products_table = products_table
        self.sleep = sleep

    def create(self, record: CatalogImport, expires_at: datetime) -> None:
        """Put a new PENDING import (ids are random: the condition only guards against reuse)."""
        item: dict[str, Any] = {
            "importId": record.id,
            "status": record.status.value,
            "objectKey": record.object_key,
            "createdAt": record.created_at.isoformat(),
            "updatedAt": record.updated_at.isoformat(),
            "errors": [],
            "offset": 0,
            "line": 0,
            "rowsRead": 0,
            "rowsImported": 0,
            "rowsRejected": 0,
            "expiresAt": int(expires_at.timestamp()),
        }
        if record.declared_bytes is not None:
            item["declaredBytes"] = record.declared_bytes
        put = {"TableName": self.table, "Item": to_item(item), "ConditionExpression": "attribute_not_exists(importId)"}
        writes.put(self.client, put)

    def get(self, import_id: str) -> CatalogImport | None:
        """The import, read consistently."""
        item = self.client.get_item(
            TableName=self.table, Key=to_item({"importId": import_id}), ConsistentRead=True
        ).get("Item")
        return to_import(item) if item else None

    def claim(self, import_id: str, etag: str, now: datetime) -> bool:
        """PENDING -> RUNNING, bound to the ETag."""
        return self._update(
            import_id,
            "SET #s = :running, etag = :etag, updatedAt = :now",
            "#s = :pending",
            {":running": "RUNNING", ":pending": "PENDING", ":etag": etag, ":now": now.isoformat()},
        )

    def fail(self, import_id: str, etag: str, reason: str, now: datetime) -> None:
        """RUNNING -> FAILED (a no-op when another invocation finished it first)."""
        self._update(
            import_id,
            "SET #s = :failed, reason = :reason, updatedAt = :now, completedAt = :now",
            "#s = :running AND etag = :etag",
            {":failed": "FAILED", ":running": "RUNNING", ":etag": etag, ":reason": reason, ":now": now.isoformat()},
        )

    def unfinished(self, updated_before: datetime) -> Iterator[CatalogImport]:
        """Scan every page for PENDING or RUNNING imports not updated since the cutoff."""
        args: dict[str, Any] = {
            "TableName": self.table,
            "FilterExpression": "#s IN (:p, :r) AND updatedAt < :cut",
            "ExpressionAttributeNames": {"#s": "status"},
            "ExpressionAttributeValues": to_item(
                {":p": "PENDING", ":r": "RUNNING", ":cut": updated_before.isoformat()}
            ),
        }
        while True:
            page = self.client.scan(**args)
            yield from (to_import(item) for item in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return
            args["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def expire(self, record: CatalogImport, reason: str, now: datetime) -> bool:
        """FAILED with the reason, only if the import has not moved since it was read."""
        return self._update(
            record.id,
            "SET #s = :failed, reason = :reason, updatedAt = :now, completedAt = :now",
            "#s = :seen AND updatedAt = :updated",
            {
                ":failed": "FAILED",
                ":seen": record.status.value,
                ":updated": record.updated_at.isoformat(),
                ":reason": reason,
                ":now": now.isoformat(),
            },
        )

    def _update(self, import_id: str, update: str, condition: str, values: dict[str, Any]) -> bool:
        args = {
            "TableName": self.table,
            "Key": to_item({"importId": import_id}),
            "UpdateExpression": update,
            "ConditionExpression": condition,
            "ExpressionAttributeNames": {"#s": "status"},
            "ExpressionAttributeValues": to_item(values),
        }
        try:
            writes.update(self.client, args)
        except ClientError as exc:
            if is_condition_failed(exc):
                return False
            raise
        return True

    def commit(self, import_id: str, etag: str, before: ImportProgress, chunk: Chunk, now: datetime) -> None:
        """One transaction: the chunk's products and the checkpoint; retried on conflicts with backoff."""
        existing: set[str] = set()
        for attempt in range(_ATTEMPTS):
            items = [self._product(row, row.product_id in existing, now) for row in chunk.rows]
            items.append(self._checkpoint(import_id, etag, before, chunk, now))
            try:
                writes.transact(self.client, items)
                return
            except ClientError as exc:
                if error_code(exc) != TRANSACTION_CANCELLED:
                    raise
                codes, transient = cancellation_codes(exc), is_transient(exc)
            if codes and codes[-1] == CONDITION_FAILED:
                raise ImportSuperseded(import_id)
            # A product created or deleted since: flip Put <-> Update for it and try again at once.
            flipped = {row.product_id for row, code in zip(chunk.rows, codes, strict=False) if code == CONDITION_FAILED}
            existing ^= flipped
            if not flipped and not transient:
                raise ServiceUnavailable(f"import chunk cancelled: {codes}")
            if not flipped:
                self.sleep(_BACKOFF_SECONDS * 2**attempt)
        raise ServiceUnavailable(f"import {import_id}: chunk still conflicting after {_ATTEMPTS} attempts")

    def _product(self, row: ImportRow, exists: bool, now: datetime) -> dict[str, Any]:
        price = Money(row.price, row.currency)
        if not exists:
            item = product_items.new_item(row.product_id, row.name, price, row.stock, now)
            return {
                "Put": {"TableName": self.products_table, "Item": item, "ConditionExpression": product_items.ABSENT}
            }
        values = product_items.details(row.name, price, now, row.stock)
        return {
            "Update": {
                "TableName": self.products_table,
                "Key": product_items.key(row.product_id),
                "UpdateExpression": product_items.REPRICE_AND_RESTOCK,
                "ConditionExpression": product_items.EXISTS,
                "ExpressionAttributeNames": product_items.NAMES,
                "ExpressionAttributeValues": values,
            }
        }

    def _checkpoint(
        self, import_id: str, etag: str, before: ImportProgress, chunk: Chunk, now: datetime
    ) -> dict[str, Any]:
        p = chunk.progress
        update = (
            "SET #o = :offset, #l = :line, rowsRead = :read, rowsImported = :imported, "
            "rowsRejected = :rejected, updatedAt = :now"
        )
        values: dict[str, Any] = {
            ":offset": p.offset,
            ":line": p.line,
            ":read": p.rows_read,
            ":imported": p.rows_imported,
            ":rejected": p.rows_rejected,
            ":now": now.isoformat(),
            ":running": "RUNNING",
            ":etag": etag,
            ":before": before.offset,
        }
        if chunk.errors:
            update += ", errors = list_append(errors, :errors)"
            values[":errors"] = [{"line": e.line, "reason": e.reason} for e in chunk.errors]
        names = {"#s": "status", "#o": "offset", "#l": "line"}
        if p.columns is not None and before.columns is None:
            update += ", #c = :columns"
            names["#c"] = "columns"
            values[":columns"] = list(p.columns)
        if chunk.done:
            update += ", #s = :completed, completedAt = :now"
            values[":completed"] = "COMPLETED"
        return {
            "Update": {
                "TableName": self.table,
                "Key": to_item({"importId": import_id}),
                "UpdateExpression": update,
                # The chunk applies only on top of the checkpoint it was read from: exactly once.
                "ConditionExpression": "#s = :running AND etag = :etag AND #o = :before",
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": to_item(values),
            }
        }
