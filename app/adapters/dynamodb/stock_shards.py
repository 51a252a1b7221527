"""Where an order's units come from: the shard an order tries first, and a plan from an atomic snapshot.

An order line tries one shard, chosen by hashing the order id, so that a sale's orders spread evenly over the
shards and a re-run of a task tries the same one. When that shard is short, a snapshot of every shard (one
TransactGetItems: all shards at one instant) either shows too few units in the whole product, the only case
that fails the order for stock, or gives a plan that takes the line's units from the shards that hold them.
"""

from __future__ import annotations

import threading
import zlib
from collections.abc import Sequence
from typing import Any

from app.adapters.dynamodb import product_items
from app.domain.orders import Order, StockTake


class ShardCounts:
    """The shard count of each product seen by this process: a hint, since counts only grow.

    A stale count spreads an order over fewer shards than there are, never onto one that does not exist.
    """

    def __init__(self) -> None:
        self._counts: dict[str, int] = {}
        self._lock = threading.Lock()

    def get(self, product_id: str) -> int:
        """The count last seen (1 for a product not seen yet)."""
        return self._counts.get(product_id, 1)

    def saw(self, product_id: str, count: int) -> None:
        """Remember a count read from the product's item (the item is the authority)."""
        with self._lock:
            self._counts[product_id] = count


SEEN = ShardCounts()  # one per process: every adapter instance of a warm function shares what it learned


def first_choice(order: Order, counts: ShardCounts) -> tuple[StockTake, ...]:
    """Each line whole from the shard its order id hashes to."""
    return tuple(
        StockTake(x.product_id, _pick(order.id, x.product_id, counts.get(x.product_id)), x.quantity)
        for x in order.lines
    )


def _pick(order_id: str, product_id: str, shards: int) -> int:
    return zlib.crc32(f"{order_id}/{product_id}".encode()) % shards if shards > 1 else 0


def snapshot(client: Any, table: str, product_id: str, shards: int) -> list[dict[str, int]] | None:
    """Every shard's counters at one instant (None if the product is gone); the count is read from shard 0."""
    keys = [{"Get": {"TableName": table, "Key": product_items.shard_key(product_id, k)}} for k in range(shards)]
    found = client.transact_get_items(TransactItems=keys)["Responses"]
    head = found[0].get("Item")
    if head is None:
        return None
    count = product_items.shards_of(head)
    if count > shards:  # grew since the hint: read them all
        return snapshot(client, table, product_id, count)
    found = found[:count]
    return [
        product_items.counters(r["Item"]) if "Item" in r else dict.fromkeys(product_items.COUNTERS, 0) for r in found
    ]


def replan(takes: Sequence[StockTake], shards: dict[str, list[dict[str, int]]]) -> tuple[StockTake, ...]:
    """The takes with each snapshotted product's units re-spread over the shards that hold them, fullest first.

    One take per shard at most: a transaction cannot name one item twice.
    """
    wanted: dict[str, int] = {}
    for take in takes:
        wanted[take.product_id] = wanted.get(take.product_id, 0) + take.quantity
    planned = [t for t in takes if t.product_id not in shards]
    for product_id, seen in shards.items():
        left = wanted.get(product_id, 0)
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
