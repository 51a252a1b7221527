"""A local DynamoDB that throttles a hot key as DynamoDB does, so that a flash sale's limits show on a laptop.

DynamoDB serves one partition at most 1,000 write units and 3,000 read units a second, and one item lives on
one partition. This counts, per table and partition key, the units each request consumes in the current
second with DynamoDB's rules: a write unit per 1 KB of the larger of the item before and after, a read unit
per 4 KB read (half for an eventually consistent read), double inside a transaction, and a failed
conditional write still pays. A key that has used up its second's units is refused, as DynamoDB refuses it:
`ThrottlingException` with the reason `Table{Read|Write}KeyRangeThroughputExceeded` (botocore retries it
with backoff), or, inside a transaction, `TransactionCanceledException` with `ThrottlingError` on that item.

`LOCAL_DYNAMODB_KEY_SCALE` (0 < scale <= 1) scales both limits down, so that a hot key saturates at laptop
rates: 0.01 gives 10 write and 30 read units a second per key. Query and Scan are not counted.
"""

from __future__ import annotations

import json
import math
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from moto.core.exceptions import JsonRESTError
from moto.dynamodb.exceptions import TransactionCanceledException
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.responses import DynamoHandler

WRITE_UNITS = 1000
READ_UNITS = 3000
SCALE_VARIABLE = "LOCAL_DYNAMODB_KEY_SCALE"
THROTTLED = "com.amazonaws.dynamodb.v20120810#ThrottlingException"
_THROTTLED_MESSAGE = "Throughput exceeds the current capacity for one or more resources."


@dataclass(frozen=True)
class Touch:
    """One item a request reads or writes."""

    table: str
    key: dict[str, Any]
    write: bool
    transactional: bool = False
    consistent: bool = True


@dataclass
class KeyUse:
    """One partition key's units in the current second, and its totals since the cloud started."""

    second: int = 0
    write: float = 0.0
    read: float = 0.0
    throttled: int = 0
    throttled_reads: int = 0
    write_total: float = 0.0
    read_total: float = 0.0
    first: int = -1  # the second of the key's first use
    throttled_at: dict[int, int] = field(default_factory=dict)  # seconds since the first use -> refusals
    by_action: dict[str, float] = field(default_factory=dict)  # write units by DynamoDB action


@dataclass
class Meter:
    """Units per (table, partition key value), against per-key limits."""

    scale: float = 1.0
    clock: Callable[[], float] = time.monotonic
    keys: dict[tuple[str, str], KeyUse] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def _use(self, table: str, key: str) -> KeyUse:
        use = self.keys.setdefault((table, key), KeyUse())
        now = int(self.clock())
        if use.first < 0:
            use.first = now
        if use.second != now:
            use.second, use.write, use.read = now, 0.0, 0.0
        return use

    def over(self, table: str, key: str, write: bool) -> bool:
        """Whether the key has used up this second's write (or read) units; counts the refusal if so."""
        with self.lock:
            use = self._use(table, key)
            spent, limit = (use.write, WRITE_UNITS) if write else (use.read, READ_UNITS)
            if spent < limit * self.scale:
                return False
            use.throttled += 1
            use.throttled_reads += not write
            offset = use.second - use.first
            use.throttled_at[offset] = use.throttled_at.get(offset, 0) + 1
            return True

    def charge(self, table: str, key: str, write: bool, units: float, action: str = "") -> None:
        """Add units consumed by a request (an `action`: PutItem, TransactWriteItems, ...) on the key."""
        with self.lock:
            use = self._use(table, key)
            if write:
                use.write += units
                use.write_total += units
                use.by_action[action] = use.by_action.get(action, 0.0) + units
            else:
                use.read += units
                use.read_total += units

    def report(self) -> list[dict[str, Any]]:
        """Every key that was throttled or used, hottest first."""
        with self.lock:
            rows = [
                {
                    "table": t,
                    "key": k,
                    "throttled": u.throttled,
                    "throttledReads": u.throttled_reads,
                    "throttledAt": dict(u.throttled_at),  # when, in seconds since the key was first used
                    "writeUnitsByAction": dict(u.by_action),
                    "writeUnits": u.write_total,
                    "readUnits": u.read_total,
                }
                for (t, k), u in self.keys.items()
            ]
        return sorted(rows, key=lambda r: (-r["throttled"], -r["writeUnits"] - r["readUnits"]))

    def reset(self) -> None:
        """Forget every key (the cloud was reset)."""
        with self.lock:
            self.keys.clear()


def checked_scale(value: object) -> float:
    """A limits' scale: above 0, at most 1."""
    scale = float(value)  # type: ignore[arg-type]  # a str or a number; anything else is the TypeError it raises
    if not 0 < scale <= 1:
        raise ValueError(f"the per-key limits' scale must be above 0 and at most 1, not {value}")
    return scale


def scale_from_environment() -> float:
    """The limits' scale from LOCAL_DYNAMODB_KEY_SCALE (1, DynamoDB's own, when unset)."""
    raw = os.environ.get(SCALE_VARIABLE, "").strip()
    return checked_scale(raw) if raw else 1.0


METER = Meter(scale_from_environment())


def write_units(size: int) -> int:
    """Write units for an item of `size` bytes (1 KB each, at least one)."""
    return max(1, math.ceil(size / 1024))


def read_units(size: int, consistent: bool) -> float:
    """Read units for `size` bytes read (4 KB each, at least one; half if eventually consistent)."""
    units = max(1, math.ceil(size / 4096))
    return units if consistent else units / 2


def touches(action: str, body: dict[str, Any]) -> Iterator[Touch]:
    """The items a request names, by action (the actions that are not counted name none)."""
    if action in ("put_item", "update_item", "delete_item"):
        yield Touch(body["TableName"], body.get("Key") or body.get("Item") or {}, write=True)
    elif action == "get_item":
        yield Touch(body["TableName"], body["Key"], write=False, consistent=bool(body.get("ConsistentRead")))
    elif action == "transact_write_items":
        for entry in body.get("TransactItems", []):
            for op, spec in entry.items():
                yield Touch(
                    spec["TableName"],
                    spec.get("Key") or spec.get("Item") or {},
                    write=op != "ConditionCheck",
                    transactional=True,
                )
    elif action == "transact_get_items":
        for entry in body.get("TransactItems", []):
            spec = entry["Get"]
            yield Touch(spec["TableName"], spec["Key"], write=False, transactional=True)
    elif action == "batch_get_item":
        for table, spec in body.get("RequestItems", {}).items():
            for key in spec.get("Keys", []):
                yield Touch(table, key, write=False, consistent=bool(spec.get("ConsistentRead")))
    elif action == "batch_write_item":
        for table, requests in body.get("RequestItems", {}).items():
            for request in requests:
                spec = request.get("PutRequest", {}).get("Item") or request.get("DeleteRequest", {}).get("Key") or {}
                yield Touch(table, spec, write=True)


COUNTED = (
    "put_item",
    "update_item",
    "delete_item",
    "get_item",
    "transact_write_items",
    "transact_get_items",
    "batch_get_item",
    "batch_write_item",
)


class _Items:
    """Reads item sizes and partition key values from moto's tables (inside the DynamoDB lock)."""

    def __init__(self, handler: DynamoHandler) -> None:
        self.backend = handler.dynamodb_backend

    def partition(self, touch: Touch) -> str | None:
        table = self.backend.tables.get(touch.table)
        value = touch.key.get(table.hash_key_attr) if table is not None else None
        return str(next(iter(value.values()))) if isinstance(value, dict) and value else None

    def size(self, touch: Touch) -> int:
        table = self.backend.tables.get(touch.table)
        if table is None:
            return 0
        try:
            hash_key = DynamoType(touch.key[table.hash_key_attr])
            range_key = DynamoType(touch.key[table.range_key_attr]) if table.range_key_attr else None
            item = table.get_item(hash_key, range_key)
        except (KeyError, TypeError, AttributeError, ValueError):
            return 0
        return item.size() if item is not None else 0


def _refusal(action: str, refused: list[bool], touched: list[Touch], keys: list[str | None]) -> JsonRESTError:
    if action == "transact_write_items":
        return TransactionCanceledException(
            [("ThrottlingError", _THROTTLED_MESSAGE, None) if no else (None, None, None) for no in refused]
        )
    first = next(i for i, no in enumerate(refused) if no)
    error = JsonRESTError(THROTTLED, _THROTTLED_MESSAGE)
    kind = "Write" if touched[first].write else "Read"
    resource = f"arn:aws:dynamodb:us-east-1:123456789012:table/{touched[first].table}"
    reason = {"reason": f"Table{kind}KeyRangeThroughputExceeded", "resource": resource}
    message = f"{_THROTTLED_MESSAGE} Hot key: {keys[first]}"
    error.description = json.dumps({"__type": THROTTLED, "message": message, "throttlingReasons": [reason]})
    return error


def metered(action: str, original: Callable[[DynamoHandler], Any], meter: Meter = METER) -> Callable[..., Any]:
    """The handler method, refused while a key it names is over its limit, and charged for what it used."""

    def handle(self: DynamoHandler) -> Any:
        items = _Items(self)
        touched = list(touches(action, self.body))
        keys = [items.partition(t) for t in touched]
        refused = [k is not None and meter.over(t.table, k, t.write) for t, k in zip(touched, keys, strict=True)]
        if any(refused):
            raise _refusal(action, refused, touched, keys)
        before = [items.size(t) for t in touched]
        try:
            return original(self)
        finally:  # a failed condition still pays for its units
            for touch, key, size in zip(touched, keys, before, strict=True):
                if key is None:
                    continue
                size = max(size, items.size(touch)) if touch.write else size
                units = write_units(size) if touch.write else read_units(size, touch.consistent)
                meter.charge(touch.table, key, touch.write, units * (2 if touch.transactional else 1), action)

    handle._metered = True  # type: ignore[attr-defined]
    return handle


def apply() -> None:
    """Meter moto's DynamoDB actions (idempotent)."""
    for action in COUNTED:
        original = getattr(DynamoHandler, action)
        if not getattr(original, "_metered", False):
            setattr(DynamoHandler, action, metered(action, original))
