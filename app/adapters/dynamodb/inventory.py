"""DynamoDB implementation of Inventory: each stock move is one transaction with the order's record.

The order item carries `inventory` (RESERVED, RELEASED, COMMITTED); every transaction is
conditional on it, so a re-run of a task finds the step done and does nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from app.adapters.aws_errors import CONDITION_FAILED, cancellation_codes
from app.adapters.dynamodb import product_items, writes
from app.adapters.dynamodb.items import to_item
from app.adapters.dynamodb.orders import DynamoOrderRepository
from app.domain.errors import (
    CommitFailed,
    IllegalTransition,
    InsufficientInventory,
    NotFound,
    OrderCancelled,
    ServiceUnavailable,
)
from app.domain.orders import OUTCOME_EVENT, InventoryState, Order, OrderStatus, PaymentState


class DynamoInventory:
    """Reserve, release and commit across the Orders and Products tables."""

    def __init__(self, client: Any, products_table: str, orders: DynamoOrderRepository) -> None:
        self.client = client
        self.products_table = products_table
        self.orders = orders

    def reserve(self, order: Order, now: datetime) -> None:
        """available -> reserved for every line, only if each has enough stock and the order is live."""
        mark = self._order_update(
            order.id,
            "SET inventory = :r, updatedAt = :now",
            "#s = :p AND attribute_not_exists(inventory)",
            {":r": InventoryState.RESERVED.value, ":p": OrderStatus.PROCESSING.value, ":now": now.isoformat()},
        )
        moves = self._stock(order, product_items.RESERVE)
        codes = self._transact([mark, *moves])
        if not codes:
            return
        if codes[0] == CONDITION_FAILED:
            current = self._current(order.id)
            if current.inventory is not None:
                return  # a re-run: reserved (and maybe released or committed) already
            if current.status is OrderStatus.CANCELLED:
                raise OrderCancelled(f"order {order.id} was cancelled")
            raise IllegalTransition(f"order {order.id} is {current.status}, it cannot reserve stock")
        short = [
            line.product_id for line, code in zip(order.lines, codes[1:], strict=False) if code == CONDITION_FAILED
        ]
        raise InsufficientInventory(f"not enough stock for {', '.join(short)}")

    def release(self, order: Order, now: datetime) -> bool:
        """reserved -> available, once; False if the order holds no reservation."""
        mark = self._order_update(
            order.id,
            "SET inventory = :rel, updatedAt = :now",
            "inventory = :r",
            {":rel": InventoryState.RELEASED.value, ":r": InventoryState.RESERVED.value, ":now": now.isoformat()},
        )
        moves = self._stock(order, product_items.RELEASE)
        codes = self._transact([mark, *moves])
        if not codes:
            return True
        if codes[0] == CONDITION_FAILED:
            return False
        raise IllegalTransition(f"order {order.id}: the stock to release is missing")

    def commit(self, order: Order, now: datetime) -> Order:
        """reserved -> sold and the order CONFIRMED, in one transaction, once."""
        mark = self._order_update(
            order.id,
            "SET #s = :c, inventory = :com, updatedAt = :now, outbox = :o REMOVE reason",
            "#s = :p AND inventory = :r AND payment = :paid",
            {
                ":c": OrderStatus.CONFIRMED.value,
                ":o": OUTCOME_EVENT[OrderStatus.CONFIRMED],
                ":com": InventoryState.COMMITTED.value,
                ":p": OrderStatus.PROCESSING.value,
                ":r": InventoryState.RESERVED.value,
                ":paid": PaymentState.CHARGED.value,
                ":now": now.isoformat(),
            },
        )
        moves = self._stock(order, product_items.COMMIT)
        codes = self._transact([mark, *moves])
        current = self._current(order.id)
        if codes and current.status is not OrderStatus.CONFIRMED:
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

    def _stock(self, order: Order, move: tuple[str, str]) -> list[dict[str, Any]]:
        return [product_items.stock_move(self.products_table, x.product_id, x.quantity, move) for x in order.lines]

    def _transact(self, items: list[dict[str, Any]]) -> list[str]:
        """Run the transaction; [] on success, else the per-item cancellation codes."""
        for item in items:
            if item["Update"].get("ExpressionAttributeNames") is None:
                item["Update"].pop("ExpressionAttributeNames", None)
        try:
            writes.transact(self.client, items)
        except ClientError as exc:
            codes = cancellation_codes(exc)
            if not codes:
                raise
            if "TransactionConflict" in codes:
                raise ServiceUnavailable("a concurrent transaction touched the same items, retry") from exc
            return codes
        return []

    def _current(self, order_id: str) -> Order:
        order = self.orders.get(order_id)
        if order is None:
            raise NotFound(f"order {order_id} not found")
        return order
