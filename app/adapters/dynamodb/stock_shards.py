"""Where an order's units come from: the shard an order tries first, and a plan from an atomic snapshot.

An order line tries one shard, chosen by hashing the order id among the shards this process has not seen dry
in the last DRY_SECONDS, so that a sale's orders spread evenly over the shards that hold units. When that shard
is short, a snapshot of every shard (one TransactGetItems: all shards at one instant) either shows too few units
in the whole product, the only case that fails the order for stock, or gives a plan that takes the line's units
from the shards that hold them.
"""

from __future__ import annotations

import threading
import time
import zlib
from collections.abc import Callable, Sequence
from typing import Any

from app.adapters.dynamodb import product_items
from app.domain.orders import Order, StockTake

DRY_SECONDS = 10.0  # how long a snapshot's empty shards are skipped by first choices (a restock refills them)


class ShardCounts:
    """The shard count of each product seen by this process, and its shards seen empty: hints, never authority.

    A stale count spreads an order over fewer shards than there are, never onto one that does not exist. A stale
    dry set only makes an order try a shard that has units again, or one that ran dry since: its condition fails
    and a snapshot decides, as without the hint. Without it every order whose hash names an emptied shard paid a
    snapshot of every shard near a sale's end (255 of 750 orders), and those reads throttled the shards.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._counts: dict[str, int] = {}
        self._dry: dict[str, tuple[float, frozenset[int]]] = {}
        self._clock = clock
        self._lock = threading.Lock()

    def get(self, product_id: str) -> int:
        """The count last seen (1 for a product not seen yet)."""
        return self._counts.get(product_id, 1)

    def saw(self, product_id: str, count: int) -> None:
        """Remember a count read from the product's item (the item is the authority)."""
        with self._lock:
            self._counts[product_id] = count

    def saw_dry(self, product_id: str, shards: frozenset[int]) -> None:
        """Remember the shards a fresh snapshot showed with nothing available."""
        with self._lock:
            self._dry[product_id] = (self._clock(), shards)

    def dry(self, product_id: str) -> frozenset[int]:
        """The shards seen empty within DRY_SECONDS."""
        seen_at, shards = self._dry.get(product_id, (0.0, frozenset()))
        return shards if self._clock() - seen_at < DRY_SECONDS else frozenset()


SEEN = ShardCounts()  # one per process: every adapter instance of a warm function shares what it learned


def first_choice(order: Order, counts: ShardCounts) -> tuple[StockTake, ...]:
    """Each line whole from the shard its order id hashes to, among those not seen dry."""
    return tuple(StockTake(x.product_id, _pick(order.id, x.product_id, counts), x.quantity) for x in order.lines)


def _pick(order_id: str, product_id: str, counts: ShardCounts) -> int:
    shards = counts.get(product_id)
    if shards == 1:
        return 0
    dry = counts.dry(product_id)
    live = [k for k in range(shards) if k not in dry] or list(range(shards))  # all dry: let a snapshot decide
    return live[zlib.crc32(f"{order_id}/{product_id}".encode()) % len(live)]


def snapshot(
    client: Any, table: str, product_id: str, shards: int
) -> tuple[list[dict[str, int]], dict[str, Any]] | None:
    """Every shard's counters at one instant, and the head item as it stood then (None if the product is gone).

    The count is read from shard 0, the head.
    """
    keys = [{"Get": {"TableName": table, "Key": product_items.shard_key(product_id, k)}} for k in range(shards)]
    found = client.transact_get_items(TransactItems=keys)["Responses"]
    head = found[0].get("Item")
    if head is None:
        return None
    count = product_items.shards_of(head)
    if count > shards:  # grew since the hint: read them all
        return snapshot(client, table, product_id, count)
    counters = [
        product_items.counters(r["Item"]) if "Item" in r else dict.fromkeys(product_items.COUNTERS, 0)
        for r in found[:count]
    ]
    return counters, head


def replan(
    takes: Sequence[StockTake], shards: dict[str, list[dict[str, int]]], seed: str = ""
) -> tuple[StockTake, ...]:
    """The takes with each snapshotted product's units re-spread over the shards that hold them.

    A line that one shard can fill whole takes one, chosen by hashing `seed` (the order id) among those that
    can: orders planned from the same snapshot spread over them instead of all writing the fullest one in the
    same second, which throttled it at a sale's end. Otherwise fullest first. One take per shard at most: a
    transaction cannot name one item twice.
    """
    wanted: dict[str, int] = {}
    for take in takes:
        wanted[take.product_id] = wanted.get(take.product_id, 0) + take.quantity
    planned = [t for t in takes if t.product_id not in shards]
    for product_id, seen in shards.items():
        left = wanted.get(product_id, 0)
        whole = [k for k in range(len(seen)) if left and seen[k]["available"] >= left]
        if whole:
            planned.append(StockTake(product_id, whole[zlib.crc32(f"{seed}/{product_id}".encode()) % len(whole)], left))
            continue
        for k in sorted(range(len(seen)), key=lambda i: -seen[i]["available"]):
            units = min(left, seen[k]["available"])
            if units > 0:
                planned.append(StockTake(product_id, k, units))
                left -= units
    return tuple(planned)


def available(counters: Sequence[dict[str, int]]) -> int:
    """Units available over all shards."""
    return sum(c["available"] for c in counters)


def empty(counters: Sequence[dict[str, int]]) -> bool:
    """Nothing available and nothing reserved on any shard: only a restock can bring stock back."""
    return all(c["available"] == 0 and c["reserved"] == 0 for c in counters)
