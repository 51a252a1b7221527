"""A journal of the items written to moto's tables, so that a snapshot reads again only what changed.

Every write to an item goes through `Table.put_item`, `Table.delete_item` or, for an update in place,
`DynamoDBBackend.update_item`; each notes the item's key in its table's journal before it runs. A
cancelled transaction puts back only items its own writes noted (infra/local/moto_transactions.py).
"""

from __future__ import annotations

from typing import Any

from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.models.table import Table

Key = tuple[DynamoType, DynamoType | None]
# Kept per table: past it, the older half goes, and a reader that had not caught up reads the table whole.
JOURNAL_LIMIT = 100_000
_ATTRIBUTE = "_local_journal"
_installed = False


class Journal:
    """The keys written to one table, in order; each reader keeps its own position in it."""

    def __init__(self) -> None:
        self.start = 0
        self.keys: list[Key | None] = []
        self.whole_from = 0  # a reader before this position reads every item again

    @property
    def end(self) -> int:
        """The position after the last write."""
        return self.start + len(self.keys)

    def add(self, key: Key | None) -> None:
        """Note a write to the item with this key (None: an item whose key could not be read)."""
        if key is None:
            self.whole_from = self.end + 1  # every reader so far; the entry below keeps the positions counting
        self.keys.append(key)
        if len(self.keys) > JOURNAL_LIMIT:
            dropped = len(self.keys) // 2
            del self.keys[:dropped]
            self.start += dropped

    def since(self, position: int) -> set[Key] | None:
        """The keys written from `position` on, or None when the reader must read every item again."""
        if position < self.start or position < self.whole_from:
            return None
        return {key for key in self.keys[position - self.start :] if key is not None}


def journal_of(table: Table) -> Journal:
    """The table's journal (a new table starts with an empty one)."""
    journal: Journal | None = table.__dict__.get(_ATTRIBUTE)
    if journal is None:
        journal = Journal()
        setattr(table, _ATTRIBUTE, journal)
    return journal


def installed() -> bool:
    """True once writes are noted: before that, a journal says nothing, and readers read every item."""
    return _installed


def _key(table: Table, attributes: dict[str, Any]) -> Key | None:
    try:
        hash_value = DynamoType(attributes[table.hash_key_attr])
        range_value = DynamoType(attributes[table.range_key_attr]) if table.range_key_attr else None
    except (KeyError, TypeError, AttributeError):
        return None  # moto refuses the request itself; noted as unknown, which costs one whole read
    return hash_value, range_value


def apply() -> None:
    """Note every item write from now on (idempotent)."""
    global _installed
    if _installed:
        return
    put_item, delete_item, update_item = Table.put_item, Table.delete_item, DynamoDBBackend.update_item

    def noted_put(self: Table, item_attrs: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        journal_of(self).add(_key(self, item_attrs))
        return put_item(self, item_attrs, *args, **kwargs)

    def noted_delete(self: Table, hash_key: DynamoType, range_key: DynamoType | None) -> Any:
        journal_of(self).add((hash_key, range_key))
        return delete_item(self, hash_key, range_key)

    def noted_update(self: DynamoDBBackend, table_name: str, key: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        table = self.tables.get(table_name)
        if table is not None:
            journal_of(table).add(_key(table, key))
        return update_item(self, table_name, key, *args, **kwargs)

    # setattr: mypy forbids assigning a method.
    setattr(Table, "put_item", noted_put)  # noqa: B010
    setattr(Table, "delete_item", noted_delete)  # noqa: B010
    setattr(DynamoDBBackend, "update_item", noted_update)  # noqa: B010
    _installed = True
