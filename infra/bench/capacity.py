"""The flash-sale capacity model: write and read units per order on each partition key, and what one product sustains.

From the DynamoDB calls `make bench` recorded for its orders (every function on the order's path), each call's
items are charged to their table and partition key with DynamoDB's unit rules (items under 1 KB, as ours
are: a write unit per write, a read unit per consistent read and half for an eventually consistent one,
double in a transaction). Keys that are shards of one thing (`<id>#shard<k>`, `DAY#<date>#<k>`) are summed
into their family, and a family of S shards puts 1/S of its units on each key.

The model then asks how many orders a second one product sustains with N stock shards: every key's units per
order against one partition's 1,000 write and 3,000 read units a second. The sold product's stock items take
its stock writes divided by N. Its catalog reads are per order when unsharded. A sharded product's reads come
from each warm function's one-second view (decision 0012), so they do not grow with orders. Keys that differ
per order (the order, its user, its payment) never limit a sale.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from app.adapters.dynamodb.analytics import SHARDS as ANALYTICS_SHARDS
from infra.local.template import Stack
from infra.local.throttling import READ_UNITS, WRITE_UNITS, touches

_SHARD_SUFFIX = re.compile(r"#(shard)?\d+$")
SHARD_COUNTS = (1, 2, 4, 8, 16, 20, 32, 64)
Trace = Iterable[tuple[str, str, str, dict[str, Any]]]


@dataclass(frozen=True)
class KeyLoad:
    """Units per order on one key family of one table."""

    table: str
    family: str
    write: float
    read: float
    shards: int = 1  # keys the family spreads over


def _snake(operation: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", operation).lower()


def _hash_keys(stack: Stack) -> dict[str, tuple[str, str]]:
    """Physical table name -> (logical id, hash key attribute)."""
    found: dict[str, tuple[str, str]] = {}
    for logical, resource in stack.of_type("AWS::DynamoDB::Table").items():
        schema = resource["Properties"]["KeySchema"]
        found[stack.name(logical)] = (logical, next(k["AttributeName"] for k in schema if k["KeyType"] == "HASH"))
    return found


def per_key(trace: Trace, stack: Stack, orders: int) -> list[KeyLoad]:
    """Units per order on every key family the recorded calls touched, hottest writes first."""
    tables = _hash_keys(stack)
    totals: dict[tuple[str, str], list[float]] = {}
    for _, service, operation, params in trace:
        if service != "dynamodb":
            continue
        for touch in touches(_snake(operation), params):
            if touch.table not in tables:
                continue
            logical, attribute = tables[touch.table]
            value = next(iter(touch.key.get(attribute, {"S": "?"}).values()))
            family = _SHARD_SUFFIX.sub("", str(value))
            units = totals.setdefault((logical, family), [0.0, 0.0])
            factor = 2 if touch.transactional else 1
            if touch.write:
                units[0] += factor
            else:
                units[1] += factor * (1 if touch.consistent else 0.5)
    loads = [
        KeyLoad(t, f, w / orders, r / orders, ANALYTICS_SHARDS if t == "AnalyticsTable" and f.startswith("DAY#") else 1)
        for (t, f), (w, r) in totals.items()
    ]
    return sorted(loads, key=lambda k: (-k.write / k.shards, -k.read / k.shards))


def shared(loads: list[KeyLoad], product: str) -> list[KeyLoad]:
    """The key families every order of a sale shares: the product's stock and the day's sales.

    The rest are one order's (its item, its payment, its event marker) or one shopper's (profile, keys); the bench
    places every order as one user, which a sale's many shoppers are not.
    """
    return [k for k in loads if k.family == product or (k.table == "AnalyticsTable" and k.family.startswith("DAY#"))]


def sustained(loads: list[KeyLoad], product: str, shards: int) -> tuple[float, str]:
    """Orders a second one product sustains with `shards` stock shards, and the key that limits it."""
    best, limit = float("inf"), ""
    for key in loads:
        write, read, spread = key.write, key.read, key.shards
        if key.table == "ProductsTable" and key.family == product:
            spread = shards
            read = key.read if shards == 1 else 0.0  # a sharded product's view is each function's, once a second
        per_key_write, per_key_read = write / spread, read / spread
        for units, ceiling, kind in ((per_key_write, WRITE_UNITS, "writes"), (per_key_read, READ_UNITS, "reads")):
            if units > 0 and ceiling / units < best:
                best, limit = ceiling / units, f"{key.table} {key.family} {kind}"
    return best, limit


def render(loads: list[KeyLoad], product: str, usd_per_million: float) -> str:
    """The model's two tables for docs/performance.md."""
    hot = shared(loads, product)
    lines = [
        "| Table | Key family | Keys | Write units / order | Read units / order |",
        "|---|---|---:|---:|---:|",
    ]
    for key in hot:
        lines.append(f"| {key.table} | `{key.family}` | {key.shards} | {key.write:.2f} | {key.read:.2f} |")
    lines += [
        "",
        "| Stock shards | Orders a second one product sustains | Limited by | USD per million orders |",
        "|---:|---:|---|---:|",
    ]
    for shards in SHARD_COUNTS:
        rate, limit = sustained(hot, product, shards)
        lines.append(f"| {shards} | {rate:,.0f} | {limit} | {usd_per_million:.2f} |")
    return "\n".join(lines)
