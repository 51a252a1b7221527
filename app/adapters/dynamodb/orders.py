"""DynamoDB implementation of OrderRepository, and of the Idempotency-Key claims.

Every status change is an UpdateItem conditional on the statuses the status machine allows
as its source, so an illegal transition can never be stored, whatever the interleaving.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from app.adapters.aws_errors import CONDITION_FAILED, cancellation_codes, is_condition_failed
from app.adapters.dynamodb import reads, writes
from app.adapters.dynamodb.items import from_item, to_item
from app.domain.errors import IllegalTransition, NotFound, OrderCancelled
from app.domain.orders import (
    OUTCOME_EVENT,
    InventoryState,
    Order,
    OrderLine,
    OrderStatus,
    PaymentState,
    StockTake,
    sources_of,
)
from app.services.ports.common import Page, PageKey
from app.services.ports.orders import IdempotencyClaim, KeyAlreadyClaimed

USER_INDEX = "UserOrderKeysIndex"  # keys only: no order update writes it (docs/performance.md)


def order_values(order: Order) -> dict[str, Any]:
    """An order as DynamoDB attribute values."""
    return {
        "orderId": order.id,
        "userId": order.user_id,
        "status": order.status.value,
        "reason": order.reason,
        "currency": order.currency,
        "total": order.total.amount,
        "lines": [{"productId": x.product_id, "quantity": x.quantity, "unitPrice": x.unit_price} for x in order.lines],
        "createdAt": order.created_at.isoformat(),
        "updatedAt": order.updated_at.isoformat(),
        "inventory": order.inventory.value if order.inventory else None,
        "payment": order.payment.value if order.payment else None,
        "paymentToken": order.payment_token,
        "outbox": order.outbox,
        "taken": [take_value(t) for t in order.taken] or None,
    }


def take_value(take: StockTake) -> dict[str, Any]:
    """One StockTake as stored in the order's `taken` list."""
    return {"productId": take.product_id, "shard": take.shard, "quantity": take.quantity}


def to_order(item: dict[str, Any]) -> Order:
    """An order from its DynamoDB item."""
    v = from_item(item)
    return Order(
        id=v["orderId"],
        user_id=v["userId"],
        lines=tuple(OrderLine(x["productId"], int(x["quantity"]), int(x["unitPrice"])) for x in v["lines"]),
        currency=v["currency"],
        status=OrderStatus(v["status"]),
        created_at=datetime.fromisoformat(v["createdAt"]),
        updated_at=datetime.fromisoformat(v["updatedAt"]),
        reason=v.get("reason"),
        inventory=InventoryState(v["inventory"]) if v.get("inventory") else None,
        payment=PaymentState(v["payment"]) if v.get("payment") else None,
        payment_token=v["paymentToken"],
        outbox=v.get("outbox"),
        taken=tuple(StockTake(t["productId"], int(t["shard"]), int(t["quantity"])) for t in v.get("taken") or ()),
    )


class DynamoOrderRepository:
    """Orders keyed by orderId, listed per user through a keys-only GSI on userId + createdAt, then read."""

    def __init__(self, client: Any, table: str, idempotency_table: str) -> None:
        self.client = client
        self.table = table
        self.idempotency_table = idempotency_table

    def add(self, order: Order, claim: IdempotencyClaim | None) -> None:
        """Put the order; with a claim, put both in one transaction so neither exists alone."""
        put = {"TableName": self.table, "Item": to_item(order_values(order))}
        put["ConditionExpression"] = "attribute_not_exists(orderId)"
        if claim is None:
            # A retry of a put whose answer was lost finds its own order: that is the success it hid.
            writes.put(self.client, put)
            return
        now = math.floor(order.created_at.timestamp())
        claim_put = {
            "TableName": self.idempotency_table,
            "Item": to_item(
                {
                    "idempotencyKey": claim.key,
                    "orderId": order.id,
                    "fingerprint": claim.fingerprint,
                    "expiresAt": math.floor(claim.expires_at.timestamp()),
                }
            ),
            # TTL deletion lags: an expired claim counts as free.
            "ConditionExpression": "attribute_not_exists(idempotencyKey) OR expiresAt < :now",
            "ExpressionAttributeValues": to_item({":now": now}),
        }
        try:
            writes.transact(self.client, [{"Put": put}, {"Put": claim_put}])
        except ClientError as exc:
            if cancellation_codes(exc)[1:2] != [CONDITION_FAILED]:
                raise
            held = self.claimed(claim.key, order.created_at)
            if held is None:  # expired and removed meanwhile: let the client retry
                raise
            raise held from exc

    def claimed(self, key: str, now: datetime) -> KeyAlreadyClaimed | None:
        """The live claim on an Idempotency-Key at `now`, if any (TTL deletion lags: an expired one is none)."""
        held = self.client.get_item(
            TableName=self.idempotency_table, Key=to_item({"idempotencyKey": key}), ConsistentRead=True
        ).get("Item")
        if held is None:
            return None
        values = from_item(held)
        if int(values["expiresAt"]) < math.floor(now.timestamp()):
            return None
        return KeyAlreadyClaimed(values["orderId"], values["fingerprint"])

    def get(self, order_id: str) -> Order | None:
        """The order, read consistently."""
        item = self.client.get_item(TableName=self.table, Key=to_item({"orderId": order_id}), ConsistentRead=True).get(
            "Item"
        )
        return to_order(item) if item else None

    def page_for_user(self, user_id: str, limit: int, start: PageKey | None) -> Page[Order, PageKey]:
        """The user's orders, newest first."""
        args: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": USER_INDEX,
            "KeyConditionExpression": "userId = :u",
            "ExpressionAttributeValues": to_item({":u": user_id}),
            "ScanIndexForward": False,
            "Limit": limit,
        }
        if start:
            args["ExclusiveStartKey"] = to_item(start)
        result = self.client.query(**args)
        ids = [item["orderId"]["S"] for item in result.get("Items", [])]
        found = reads.batch_get(self.client, self.table, [to_item({"orderId": i}) for i in ids])
        by_id = {item["orderId"]["S"]: to_order(item) for item in found}
        key = result.get("LastEvaluatedKey")
        # In the index's order; an order the index still lists but the table no longer holds is left out.
        return Page(items=[by_id[i] for i in ids if i in by_id], next_key=from_item(key) if key else None)

    def transition(self, order_id: str, target: OrderStatus, now: datetime, reason: str | None = None) -> Order:
        """Conditional on the current status being one the machine allows as a source of `target`."""
        sources = sorted(sources_of(target))
        names = {f":s{i}": s.value for i, s in enumerate(sources)}
        condition = f"#s IN ({', '.join(names)})"
        if target is OrderStatus.CANCELLED:
            condition += " AND attribute_not_exists(payment)"  # no cancel once the payment started
        sets = "#s = :t, updatedAt = :now" + (", reason = :r" if reason else "")
        values = {**names, ":t": target.value, ":now": now.isoformat(), **({":r": reason} if reason else {})}
        if target in OUTCOME_EVENT:
            sets += ", outbox = :o"  # the outcome event is owed from the same write as the status
            values[":o"] = OUTCOME_EVENT[target]
        try:
            return self._update(order_id, "SET " + sets, condition, values)
        except ClientError as exc:
            if not is_condition_failed(exc):
                raise
            current = self._must(order_id)
            if current.status is target:
                return current
            raise IllegalTransition(f"order {order_id} is {current.status}, it cannot become {target}") from exc

    def start_payment(self, order_id: str, now: datetime) -> Order:
        """payment = CHARGING while PROCESSING and reserved; a re-run finds it set and goes on."""
        condition = "#s = :p AND inventory = :r AND attribute_not_exists(payment)"
        values = {
            ":p": OrderStatus.PROCESSING.value,
            ":r": InventoryState.RESERVED.value,
            ":c": PaymentState.CHARGING.value,
            ":now": now.isoformat(),
        }
        try:
            return self._update(order_id, "SET payment = :c, updatedAt = :now", condition, values)
        except ClientError as exc:
            if not is_condition_failed(exc):
                raise
            current = self._must(order_id)
            if current.status is OrderStatus.CANCELLED:
                raise OrderCancelled(f"order {order_id} was cancelled before payment") from exc
            started = current.payment is not None and current.inventory is InventoryState.RESERVED
            if current.status is OrderStatus.PROCESSING and started:
                return current
            raise IllegalTransition(f"order {order_id} cannot be charged now") from exc

    def clear_outbox(self, order_id: str, event: str) -> None:
        """REMOVE outbox while it still names this event."""
        try:
            self._update(order_id, "REMOVE outbox", "outbox = :e", {":e": event})
        except ClientError as exc:
            if not is_condition_failed(exc):
                raise

    def _update(self, order_id: str, update: str, condition: str, values: dict[str, Any]) -> Order:
        names = {"#s": "status"} if "#s" in update + condition else {}
        args: dict[str, Any] = {
            "TableName": self.table,
            "Key": to_item({"orderId": order_id}),
            "UpdateExpression": update,
            "ConditionExpression": condition,
            "ExpressionAttributeValues": to_item(values),
            "ReturnValues": "ALL_NEW",
        }
        if names:
            args["ExpressionAttributeNames"] = names
        return to_order(writes.update(self.client, args)["Attributes"])

    def _must(self, order_id: str) -> Order:
        order = self.get(order_id)
        if order is None:
            raise NotFound(f"order {order_id} not found")
        return order


class DynamoStaleOrders:
    """Scans the Orders table one page (Limit items read) at a time, keeping the unfinished old ones."""

    def __init__(self, client: Any, table: str) -> None:
        self.client = client
        self.table = table

    def page_unfinished(self, created_before: datetime, limit: int, start: PageKey | None) -> Page[Order, PageKey]:
        """PENDING or PROCESSING orders created before the cutoff, or with a pending outbox; the key to continue."""
        args: dict[str, Any] = {
            "TableName": self.table,
            "Limit": limit,
            # Unfinished orders, and final ones whose outcome event is still in the outbox.
            "FilterExpression": (
                "(#s IN (:p, :r) AND createdAt < :cut) OR (attribute_exists(outbox) AND updatedAt < :cut)"
            ),
            "ExpressionAttributeNames": {"#s": "status"},
            "ExpressionAttributeValues": to_item(
                {
                    ":p": OrderStatus.PENDING.value,
                    ":r": OrderStatus.PROCESSING.value,
                    ":cut": created_before.isoformat(),
                }
            ),
            "ConsistentRead": True,
        }
        if start:
            args["ExclusiveStartKey"] = to_item(start)
        result = self.client.scan(**args)
        key = result.get("LastEvaluatedKey")
        return Page(items=[to_order(i) for i in result.get("Items", [])], next_key=from_item(key) if key else None)
