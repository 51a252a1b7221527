"""The write units a table's global secondary indexes add to a write, from the template's projections.

DynamoDB bills a table write plus one write per index the write changes: an index is written when the item
gains, loses or changes an attribute the index holds (its keys, and its projected attributes; every attribute
with ProjectionType ALL). A write that touches nothing an index holds costs that index nothing. Index writes
are not doubled inside a transaction: the transaction's changes propagate to the indexes afterwards. Items
here are under 1 KB, so each index write is one unit. Source: the DynamoDB Developer Guide, "Provisioned
throughput considerations for Global Secondary Indexes" (GSI.html#GSI.ThroughputConsiderations.Writes) and
"Amazon DynamoDB Transactions: How it works" (transaction-apis.html).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

_CLAUSE = re.compile(r"\b(SET|REMOVE|ADD|DELETE)\b", re.IGNORECASE)
_FUNCTIONS = {"if_not_exists", "list_append"}
_SINGLE = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem"}


@dataclass(frozen=True)
class Index:
    """One global secondary index: its key attributes and what it projects (None: every attribute)."""

    name: str
    keys: frozenset[str]
    projected: frozenset[str] | None

    def written(self, kind: str, attributes: frozenset[str]) -> bool:
        """Whether a write of this kind (put, update, delete) naming these attributes changes the index."""
        if kind == "put":
            return self.keys <= attributes  # an item without the index's keys is not in it (a sparse index)
        if kind == "delete" or self.projected is None:
            return kind == "delete" or bool(attributes)
        return bool(attributes & (self.keys | self.projected))


def indexes(resources: Mapping[str, Mapping[str, Any]], name_of: Any) -> dict[str, tuple[Index, ...]]:
    """Each table's indexes, by the table's physical name (`name_of(logical_id)`)."""
    found: dict[str, tuple[Index, ...]] = {}
    for logical_id, resource in resources.items():
        if resource.get("Type") != "AWS::DynamoDB::Table":
            continue
        gsis = resource.get("Properties", {}).get("GlobalSecondaryIndexes") or []
        found[name_of(logical_id)] = tuple(_index(g) for g in gsis)
    return found


def _index(spec: Mapping[str, Any]) -> Index:
    keys = frozenset(k["AttributeName"] for k in spec["KeySchema"])
    projection = spec.get("Projection", {})
    kind = projection.get("ProjectionType", "KEYS_ONLY")
    projected = (
        None if kind == "ALL" else frozenset(projection.get("NonKeyAttributes", []) if kind == "INCLUDE" else [])
    )
    return Index(spec["IndexName"], keys, projected)


def units(operation: str, params: Mapping[str, Any], tables: Mapping[str, tuple[Index, ...]]) -> float:
    """Index write units of one DynamoDB request (counted as sent: a failed condition writes no index)."""
    writes = _writes(operation, params)
    return float(
        sum(1 for table, kind, names in writes for index in tables.get(table, ()) if index.written(kind, names))
    )


def _writes(operation: str, params: Mapping[str, Any]) -> Iterator[tuple[str, str, frozenset[str]]]:
    """(table, put | update | delete, the attributes it writes) for each item a request writes."""
    if operation == "TransactWriteItems":
        for action in params.get("TransactItems", []):
            for kind, body in action.items():
                yield from _writes(_SINGLE.get(kind, ""), body)
    elif operation == "BatchWriteItem":
        for table, requests in params.get("RequestItems", {}).items():
            for request in requests:
                put = request.get("PutRequest")
                yield (table, "put", frozenset(put["Item"])) if put else (table, "delete", frozenset())
    elif operation == "PutItem":
        yield params["TableName"], "put", frozenset(params.get("Item", {}))
    elif operation == "DeleteItem":
        yield params["TableName"], "delete", frozenset()
    elif operation == "UpdateItem":
        names = params.get("ExpressionAttributeNames") or {}
        yield params["TableName"], "update", updated(params.get("UpdateExpression", ""), names)


def updated(expression: str, names: Mapping[str, str]) -> frozenset[str]:
    """The top-level attributes an UpdateExpression sets, adds, removes or deletes."""
    found: set[str] = set()
    parts = _CLAUSE.split(expression)
    for clause, body in zip(parts[1::2], parts[2::2], strict=True):
        for action in _split_top(body):
            path = action.strip()
            path = path.split("=", 1)[0] if clause.upper() == "SET" else path.split()[0] if path.split() else ""
            top = re.split(r"[.\[]", path.strip(), maxsplit=1)[0].strip()
            if top and top not in _FUNCTIONS:
                found.add(names.get(top, top))
    return frozenset(found)


def _split_top(body: str) -> list[str]:
    """Split a clause's actions on the commas outside parentheses."""
    actions, depth, start = [], 0, 0
    for i, char in enumerate(body):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "," and depth == 0:
            actions.append(body[start:i])
            start = i + 1
    actions.append(body[start:])
    return [a for a in actions if a.strip()]
