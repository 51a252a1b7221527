"""DynamoDB implementation of Inventory: each stock move is one transaction with the order's record.

The order item carries `inventory` (RESERVED, RELEASED, COMMITTED) and `taken` (which shard gave which
units); every transaction is conditional on `inventory`, so a re-run of a task finds the step done and does
nothing, and release and commit move exactly the units the reservation took (docs/decisions/0012).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from app.adapters.aws_errors import CONDITION_FAILED, is_condition_failed, is_transient
from app.adapters.dynamodb import product_items, stock_shards, writes
from app.adapters.dynamodb.items import to_item
from app.adapters.dynamodb.orders import DynamoOrderRepository, take_value
from app.domain.errors import (
    CommitFailed,
    IllegalTransition,
    InsufficientInventory,
    NotFound,
    OrderCancelled,
    ServiceUnavailable,
)
from app.domain.orders import OUTCOME_EVENT, InventoryState, Order, OrderStatus, PaymentState, StockTake

RESERVE_ATTEMPTS = 4  # a new plan per attempt; every failure before the last is a shard emptied meanwhile
MAX_ACTIONS = 100  # a transaction's limit: the order's own update plus one move per take


def _code(reason: dict[str, Any]) -> str:
    return str(reason.get("Code", "None"))


def _with_old(move: dict[str, Any]) -> dict[str, Any]:
    """A stock move whose failed condition reports the item it saw (no read: the cancellation carries it)."""
    return {"Update": {**move["Update"], "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}}


def _wanted(order: Order, product_id: str) -> int:
    return sum(x.quantity for x in order.lines if x.product_id == product_id)


class DynamoInventory:
    """Reserve, release and commit across the Orders and Products tables."""

    def __init__(
        self,
        client: Any,
        products_table: str,
        orders: DynamoOrderRepository,
        seen: stock_shards.ShardCounts = stock_shards.SEEN,
    ) -> None:
        self.client = client
        self.products_table = products_table
        self.orders = orders
        self.seen = seen

    def reserve(self, order: Order, now: datetime) -> None:
        """available -> reserved for every line, only if the stock is there and the order is live.

        Fails for stock only when an atomic snapshot of the product's shards shows too few units in all of
        them; a shard that ran dry while others hold units gets a new plan, tried again.
        """
        takes = stock_shards.first_choice(order, self.seen)
        for _ in range(RESERVE_ATTEMPTS):
            moves = [_with_old(self._reserve_move(take)) for take in takes]
            reasons = self._cancelled([self._mark_reserved(order, takes, now), *moves])
            if not reasons:
                return
            if _code(reasons[0]) == CONDITION_FAILED:
                self._reserved_before(order.id)
                return
            heads: dict[str, dict[str, Any] | None] = {}
            for take, reason in zip(takes, reasons[1:], strict=False):
                if _code(reason) == CONDITION_FAILED:  # the product's item as the failed condition saw it
                    heads[take.product_id] = reason.get("Item") if take.shard == 0 else heads.get(take.product_id)
            shards, seen_heads = self._snapshots(heads)
            lacking = sorted(pid for pid in heads if stock_shards.available(shards[pid]) < _wanted(order, pid))
            if lacking:
                empty = [pid for pid in lacking if shards[pid] and stock_shards.empty(shards[pid])]
                self._mark_sold_out(empty, seen_heads)
                raise InsufficientInventory(f"not enough stock for {', '.join(lacking)}")
            takes = stock_shards.replan(takes, shards, order.id)
            if len(takes) >= MAX_ACTIONS:
                break
        raise ServiceUnavailable(f"order {order.id}: stock kept moving between shards, retry")

    def _reserved_before(self, order_id: str) -> None:
        """The order's own condition failed: a re-run finds it reserved; anything else is refused."""
        current = self._current(order_id)
        if current.inventory is not None:
            return  # a re-run: reserved (and maybe released or committed) already
        if current.status is OrderStatus.CANCELLED:
            raise OrderCancelled(f"order {order_id} was cancelled")
        raise IllegalTransition(f"order {order_id} is {current.status}, it cannot reserve stock")

    def _mark_reserved(self, order: Order, takes: tuple[StockTake, ...], now: datetime) -> dict[str, Any]:
        # `taken` only when it is not every line whole from shard 0: an unsharded product's order item keeps its size.
        values: dict[str, Any] = {":r": InventoryState.RESERVED.value, ":p": OrderStatus.PROCESSING.value}
        values[":pending"], values[":now"] = OrderStatus.PENDING.value, now.isoformat()
        # PENDING -> PROCESSING here, with the stock: the queue worker writes nothing (one write fewer an order).
        update = "SET inventory = :r, #s = :p, updatedAt = :now"
        if takes != replace(order, taken=()).takes():
            update += ", taken = :t"
            values[":t"] = [take_value(t) for t in takes]
        condition = "#s IN (:pending, :p) AND attribute_not_exists(inventory)"
        return self._order_update(order.id, update, condition, values)

    def _snapshots(
        self, heads: dict[str, dict[str, Any] | None]
    ) -> tuple[dict[str, list[dict[str, int]]], dict[str, dict[str, Any]]]:
        """Each short product's shards at one instant; [] for a product flagged sold out (nothing to take).

        An unsharded product's item is that instant by itself: the failed condition's view of it (no read), or one
        consistent read. A flagged product needs no more either: the flag says every shard was empty, and only
        a restock, which clears it in the same write, adds units. Also the head as each snapshot saw it, for
        the sold-out flag (`_mark_sold_out`).
        """
        found: dict[str, list[dict[str, int]]] = {}
        seen_heads: dict[str, dict[str, Any]] = {}
        for product_id, seen in sorted(heads.items()):
            head = seen or self.client.get_item(
                TableName=self.products_table, Key=product_items.key(product_id), ConsistentRead=True
            ).get("Item")
            if head is None:
                raise InsufficientInventory(f"product {product_id} does not exist")
            count = product_items.shards_of(head)
            self.seen.saw(product_id, count)
            if product_items.SOLD_OUT in head:
                found[product_id] = []
                continue
            if count > 1:
                taken = stock_shards.snapshot(self.client, self.products_table, product_id, count)
                if taken is None:
                    raise InsufficientInventory(f"product {product_id} does not exist")
                found[product_id], head = taken
                dry = frozenset(k for k, c in enumerate(found[product_id]) if not c["available"])
                self.seen.saw_dry(product_id, dry)
            else:
                found[product_id] = [product_items.counters(head)]
            seen_heads[product_id] = head
        return found, seen_heads

    def _mark_sold_out(self, product_ids: list[str], seen_heads: dict[str, dict[str, Any]]) -> None:
        """Flag each product sold out: one conditional write on its head, as the snapshot that found it empty saw it.

        The snapshot showed nothing available and nothing reserved on every shard at one instant. After it,
        units come back only by a restock (a release needs a reservation), and every restock writes the head's
        `updatedAt` and clears the flag in the same update. So the flag is safe where the head's `updatedAt` is
        still the snapshot's: one write unit, where a transaction rechecking every shard cost each of them 2
        and, at a sale's end, throttled them all.
        """
        for product_id in product_ids:
            head = seen_heads.get(product_id)
            if head is None or "updatedAt" not in head:
                continue
            flag, empty = product_items.MARK_SOLD_OUT
            try:
                self.client.update_item(
                    TableName=self.products_table,
                    Key=product_items.key(product_id),
                    UpdateExpression=flag,
                    ConditionExpression=f"updatedAt = :seen AND {empty}",
                    ExpressionAttributeValues={**to_item({":yes": True, ":zero": 0}), ":seen": head["updatedAt"]},
                )
            except ClientError as exc:
                if not is_condition_failed(exc):
                    raise
                # Restocked, resharded or flagged since the snapshot: nothing to flag.

    def release(self, order: Order, now: datetime) -> bool:
        """reserved -> available, once; False if the order holds no reservation."""
        mark = self._order_update(
            order.id,
            "SET inventory = :rel, updatedAt = :now",
            "inventory = :r",
            {":rel": InventoryState.RELEASED.value, ":r": InventoryState.RESERVED.value, ":now": now.isoformat()},
        )
        codes = self._transact([mark, *self._moves(order.takes(), product_items.RELEASE)])
        if not codes:
            return True
        if codes[0] == CONDITION_FAILED:
            return False
        raise IllegalTransition(f"order {order.id}: the stock to release is missing")

    def commit(self, order: Order, now: datetime) -> Order:
        """reserved -> sold and the order CONFIRMED, in one transaction, once."""
        mark = self._order_update(
            order.id,
            "SET #s = :c, inventory = :com, payment = :paid, updatedAt = :now, outbox = :o REMOVE reason",
            "#s = :p AND inventory = :r AND payment IN (:g, :paid)",  # charged: the saga commits only after it
            {
                ":c": OrderStatus.CONFIRMED.value,
                ":o": OUTCOME_EVENT[OrderStatus.CONFIRMED],
                ":com": InventoryState.COMMITTED.value,
                ":p": OrderStatus.PROCESSING.value,
                ":r": InventoryState.RESERVED.value,
                ":paid": PaymentState.CHARGED.value,
                ":g": PaymentState.CHARGING.value,
                ":now": now.isoformat(),
            },
        )
        codes = self._transact([mark, *self._moves(order.takes(), product_items.COMMIT)])
        if not codes:
            # What the transaction wrote, from the order read just before it: no second read of the item.
            return replace(
                order,
                status=OrderStatus.CONFIRMED,
                inventory=InventoryState.COMMITTED,
                payment=PaymentState.CHARGED,
                updated_at=now,
                outbox=OUTCOME_EVENT[OrderStatus.CONFIRMED],
                reason=None,
            )
        current = self._current(order.id)
        if current.status is not OrderStatus.CONFIRMED:
            raise CommitFailed(f"order {order.id} could not be committed ({current.status}, {current.inventory})")
        return current

    def _order_update(self, order_id: str, update: str, condition: str, values: dict[str, Any]) -> dict[str, Any]:
        return {
            "Update": {
                "TableName": self.orders.table,
                "Key": to_item({"orderId": order_id}),
                "UpdateExpression": update,
                "ConditionExpression": condition,
                "ExpressionAttributeNames": {"#s": "status"} if "#s" in update + condition else None,
                "ExpressionAttributeValues": to_item(values),
            }
        }

    def _reserve_move(self, take: StockTake) -> dict[str, Any]:
        """RESERVE on the take's shard; on shard 0 of a product this process knows as unsharded, only if it is."""
        unsharded = take.shard == 0 and self.seen.get(take.product_id) == 1
        move = product_items.RESERVE_UNSHARDED if unsharded else product_items.RESERVE
        return product_items.stock_move(self.products_table, take.product_id, take.quantity, move, take.shard)

    def _moves(self, takes: tuple[StockTake, ...], move: tuple[str, str]) -> list[dict[str, Any]]:
        return [product_items.stock_move(self.products_table, t.product_id, t.quantity, move, t.shard) for t in takes]

    def _transact(self, items: list[dict[str, Any]]) -> list[str]:
        """Run the transaction; [] on success, else the per-item cancellation codes."""
        return [_code(r) for r in self._cancelled(items)]

    def _cancelled(self, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Run the transaction; [] on success, else the per-item cancellation reasons (with Item where asked)."""
        for item in items:
            if item["Update"].get("ExpressionAttributeNames") is None:
                item["Update"].pop("ExpressionAttributeNames", None)
        try:
            writes.transact(self.client, items)
        except ClientError as exc:
            reasons: list[dict[str, Any]] = [dict(r) for r in exc.response.get("CancellationReasons", [])]
            if not reasons:
                raise
            if is_transient(exc):
                raise ServiceUnavailable("a concurrent transaction or a throttle cancelled it, retry") from exc
            return reasons
        return []

    def _current(self, order_id: str) -> Order:
        order = self.orders.get(order_id)
        if order is None:
            raise NotFound(f"order {order_id} not found")
        return order
