"""The local cloud's table items as the snapshot file holds them, kept between snapshots.

Reading moto's items (`to_json`) took about 35 µs each: 29,000 items cost a second of the process that serves
the cloud at every snapshot. Only the items written since the last snapshot are read again, from each table's
write journal (infra/local/table_writes.py). Each item is kept as the compact JSON the file holds: as decoded
dicts, 29,000 items held 50 MB more of the process.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, overload

from infra.local import table_writes
from infra.local.cloud import DYNAMODB_LOCK
from infra.local.table_writes import Key
from infra.local.template import ACCOUNT_ID, Stack

SNAPSHOT_PAGE = 200
COMPACT = json.JSONEncoder(separators=(",", ":"))


class EncodedItems(Sequence[dict[str, Any]]):
    """A table's items as compact JSON, decoded only when read (the file takes them as they are)."""

    def __init__(self, encoded: list[str]) -> None:
        self.encoded = encoded

    def __len__(self) -> int:
        return len(self.encoded)

    @overload
    def __getitem__(self, index: int) -> dict[str, Any]: ...

    @overload
    def __getitem__(self, index: slice) -> list[dict[str, Any]]: ...

    def __getitem__(self, index: int | slice) -> dict[str, Any] | list[dict[str, Any]]:
        if isinstance(index, slice):
            return [json.loads(item) for item in self.encoded[index]]
        decoded: dict[str, Any] = json.loads(self.encoded[index])
        return decoded

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return (json.loads(item) for item in self.encoded)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sequence) and list(self) == list(other)

    __hash__ = None  # type: ignore[assignment]  # mutable, like the list it stands for


def encoded(items: Sequence[dict[str, Any]]) -> list[str]:
    """Each item's compact JSON."""
    return items.encoded if isinstance(items, EncodedItems) else [COMPACT.encode(item) for item in items]


@dataclass
class _TableCopy:
    """The items of one moto table as the last snapshot wrote them, by key, and where its journal stood."""

    table: Any
    position: int
    items: dict[Key, str]


class TableCopies:
    """Every table's items as a snapshot writes them, updated from the write journal between snapshots."""

    def __init__(self) -> None:
        self._copies: dict[str, _TableCopy] = {}

    def read(self, stack: Stack) -> dict[str, Sequence[dict[str, Any]]]:
        """Every table's items."""
        from moto.dynamodb.models import dynamodb_backends

        backend = dynamodb_backends[ACCOUNT_ID][stack.region]
        with DYNAMODB_LOCK:  # moto's tables are not thread-safe
            tables = dict(backend.tables)
        self._copies = {name: self._current(table, self._copies.get(name)) for name, table in tables.items()}
        return {name: EncodedItems(list(copy.items.values())) for name, copy in self._copies.items()}

    @staticmethod
    def _current(table: Any, last: _TableCopy | None) -> _TableCopy:
        journal = table_writes.journal_of(table)
        with DYNAMODB_LOCK:
            # Writes after this position are read again next time, even those the pages below already see.
            position = journal.end
            written = None  # unless the journal says what changed: every item
            if last is not None and last.table is table and table_writes.installed():
                written = journal.since(last.position)
            if last is None or written is None:
                keys: list[Key] = [(item.hash_key, item.range_key) for item in table.all_items()]
                items: dict[Key, str] = {}
            else:
                keys, items = list(written), last.items
        # A page at a time, as a Scan reads them: 30,000 items at once held every DynamoDB request for a second.
        for start in range(0, len(keys), SNAPSHOT_PAGE):
            with DYNAMODB_LOCK:  # to_json copies what it returns
                page = [(key, table.get_item(*key)) for key in keys[start : start + SNAPSHOT_PAGE]]
                page_json = [(key, None if item is None else item.to_json()["Attributes"]) for key, item in page]
            for key, attributes in page_json:
                if attributes is None:
                    items.pop(key, None)
                else:
                    items[key] = COMPACT.encode(json_safe(attributes))
        return _TableCopy(table, position, items)


def json_safe(value: Any) -> Any:
    """An item as DynamoDB's JSON writes it: binary values in base64 (moto holds nested ones as bytes)."""
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [json_safe(v) for v in value]
    return value
