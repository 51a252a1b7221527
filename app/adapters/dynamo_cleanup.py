"""What the daily cleanup reads and deletes: unfinished orders, expired Idempotency-Key claims,
and the workflow execution of an order."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from app.adapters.dynamo import error_code, from_item, to_item
from app.adapters.dynamo_orders import to_order
from app.domain.orders import OrderStatus
from app.services.ports import Page, PageKey


class DynamoStaleOrders:
    """Scans the Orders table one page (Limit items read) at a time, keeping the unfinished old ones."""

    def __init__(self, client: Any, table: str) -> None:
        self.client = client
        self.table = table

    def page_unfinished(self, created_before: datetime, limit: int, start: PageKey | None) -> Page:
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


class DynamoIdempotencyRecords:
    """Deletes claims whose `expiresAt` (epoch seconds) has passed; TTL does it in AWS, not in moto."""

    def __init__(self, client: Any, table: str) -> None:
        self.client = client
        self.table = table

    def purge_expired(self, now: datetime, limit: int, start: PageKey | None) -> tuple[int, PageKey | None]:
        """Delete the expired claims of one scan page; each delete re-checks expiry (a re-claim is kept)."""
        cutoff = to_item({":now": math.floor(now.timestamp())})
        args: dict[str, Any] = {
            "TableName": self.table,
            "Limit": limit,
            "FilterExpression": "expiresAt < :now",
            "ProjectionExpression": "idempotencyKey",
            "ExpressionAttributeValues": cutoff,
        }
        if start:
            args["ExclusiveStartKey"] = to_item(start)
        result = self.client.scan(**args)
        deleted = 0
        for item in result.get("Items", []):
            try:
                self.client.delete_item(
                    TableName=self.table,
                    Key={"idempotencyKey": item["idempotencyKey"]},
                    ConditionExpression="expiresAt < :now",
                    ExpressionAttributeValues=cutoff,
                )
                deleted += 1
            except ClientError as exc:
                if error_code(exc) != "ConditionalCheckFailedException":
                    raise
        key = result.get("LastEvaluatedKey")
        return deleted, from_item(key) if key else None


class StepFunctionsExecutions:
    """The order workflow's execution of an order is named by the order id."""

    def __init__(self, client: Any, state_machine_arn: str) -> None:
        self.client = client
        self.execution_prefix = state_machine_arn.replace(":stateMachine:", ":execution:", 1)

    def status(self, order_id: str) -> str | None:
        """DescribeExecution's status, or None if the order never had an execution."""
        try:
            result = self.client.describe_execution(executionArn=f"{self.execution_prefix}:{order_id}")
        except ClientError as exc:
            if error_code(exc) == "ExecutionDoesNotExist":
                return None
            raise
        return str(result["status"])
