"""Idempotency-Key claims: the cleanup's purge of expired ones."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from app.adapters.aws_errors import is_condition_failed
from app.adapters.dynamodb.items import from_item, to_item
from app.services.ports.common import PageKey


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
                if not is_condition_failed(exc):
                    raise
        key = result.get("LastEvaluatedKey")
        return deleted, from_item(key) if key else None
