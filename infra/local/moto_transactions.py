"""moto's TransactWriteItems, without a deep copy of every touched table per item.

moto backs up a transaction by deep-copying the whole table once per item it touches, so one
100-item transaction on a 100,000-item table copies ten million items. This backs up only the
items the transaction names and restores them when moto cancels it. DynamoDB requests are
serialised by infra.local.cloud.SerializedDynamoDB, so nothing else sees the intermediate state.
"""

from __future__ import annotations

import copy
from typing import Any

from moto.dynamodb import models
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.models.table import Table

Snapshot = list[tuple[Table, DynamoType, DynamoType | None, Any]]


class _KeepTables:
    """Stands in for the `copy` module inside moto.dynamodb.models: tables are not copied."""

    def deepcopy(self, value: Any, memo: Any = None) -> Any:
        return value if isinstance(value, Table) else copy.deepcopy(value, memo)


def _keys(table: Table, op_type: str, op: dict[str, Any]) -> tuple[DynamoType, DynamoType | None]:
    source = op["Item"] if op_type == "Put" else op["Key"]
    range_attr = table.range_key_attr
    return DynamoType(source[table.hash_key_attr]), DynamoType(source[range_attr]) if range_attr else None


def _snapshot(backend: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> Snapshot:
    saved: Snapshot = []
    for item in transact_items:
        for op_type, op in item.items():
            table = backend.tables.get(op.get("TableName", ""))
            if table is None:
                continue
            try:
                hash_key, range_key = _keys(table, op_type, op)
            except (KeyError, TypeError, AttributeError):
                continue  # moto reports the malformed request itself
            saved.append((table, hash_key, range_key, copy.deepcopy(table.get_item(hash_key, range_key))))
    return saved


def _restore(saved: Snapshot) -> None:
    for table, hash_key, range_key, before in reversed(saved):
        if before is None:
            table.delete_item(hash_key, range_key)
        elif range_key is not None:
            table.items[hash_key][range_key] = before
        else:
            table.items[hash_key] = before


def apply() -> None:
    """Install the item-level backup (idempotent)."""
    original = DynamoDBBackend.transact_write_items
    if getattr(original, "_item_backup", False):
        return

    def transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
        saved = _snapshot(self, transact_items)
        try:
            original(self, transact_items)
        except Exception:
            _restore(saved)
            raise

    transact_write_items._item_backup = True  # type: ignore[attr-defined]
    setattr(models, "copy", _KeepTables())  # noqa: B010 - replaces only that module's `copy`
    setattr(DynamoDBBackend, "transact_write_items", transact_write_items)  # noqa: B010 - mypy forbids assigning a method
