"""The simulated PaymentGateway: deterministic rules (app.domain.payments) over a DynamoDB ledger.

Ledger items are keyed by (orderId, entry) with entry CHARGE, REFUND or ATTEMPTS; the CHARGE
and REFUND puts are conditional on not existing, so an order is charged and refunded at most once.
The order id is the idempotency key every call carries: a real provider goes behind the same port and
passes it on. Each call is one attempt, counted once under its own id even when the SDK retries the
counter's write after a lost answer (app/adapters/dynamodb/writes.py).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from app.adapters.aws_errors import is_condition_failed
from app.adapters.dynamodb import writes
from app.adapters.dynamodb.items import from_item, to_item
from app.domain.money import Money
from app.domain.payments import check_charge
from app.services.ports.common import Clock

CHARGE = "CHARGE"
REFUND = "REFUND"
ATTEMPTS = "ATTEMPTS"


class SimulatedPaymentGateway:
    """Charges and refunds recorded in a ledger table."""

    def __init__(self, client: Any, table: str, limit_minor: int, clock: Clock) -> None:
        self.client = client
        self.table = table
        self.limit = limit_minor
        self.clock = clock

    def charge(self, order_id: str, amount: Money, token: str) -> None:
        """Charge once per order; a re-run finds the CHARGE entry and returns."""
        if self._entry(order_id, CHARGE) is not None:
            return
        check_charge(amount, token, self.limit, self._count_attempt(order_id))
        self._record(order_id, CHARGE, amount, self.clock())

    def _count_attempt(self, order_id: str) -> int:
        """Count this call as one attempt (once, however often the SDK sends it); the attempts so far."""
        attempt = writes.new_token()
        args = {
            "TableName": self.table,
            "Key": to_item({"orderId": order_id, "entry": ATTEMPTS}),
            "UpdateExpression": "ADD attempts :one, attemptIds :ids",
            "ConditionExpression": "NOT contains(attemptIds, :id)",
            "ExpressionAttributeValues": to_item({":one": 1, ":ids": {attempt}, ":id": attempt}),
            "ReturnValues": "ALL_NEW",
        }
        return int(from_item(writes.update(self.client, args, attempt)["Attributes"])["attempts"])

    def refund(self, order_id: str) -> bool:
        """Refund the charge once; False when there is no charge or it was already refunded."""
        charge = self._entry(order_id, CHARGE)
        if charge is None:
            return False
        return self._record(order_id, REFUND, Money(int(charge["amount"]), charge["currency"]), self.clock())

    def _entry(self, order_id: str, entry: str) -> dict[str, Any] | None:
        item = self.client.get_item(
            TableName=self.table, Key=to_item({"orderId": order_id, "entry": entry}), ConsistentRead=True
        ).get("Item")
        return from_item(item) if item else None

    def _record(self, order_id: str, entry: str, amount: Money, now: datetime) -> bool:
        """Put the entry once; False when it was there before this call (not when this call's retry finds it)."""
        values = {"orderId": order_id, "entry": entry, "amount": amount.amount, "currency": amount.currency}
        put = {
            "TableName": self.table,
            "Item": to_item({**values, "at": now.isoformat()}),
            "ConditionExpression": "attribute_not_exists(orderId)",
        }
        try:
            writes.put(self.client, put)
        except ClientError as exc:
            if is_condition_failed(exc):
                return False
            raise
        return True
