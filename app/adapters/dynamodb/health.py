"""Health probe of a DynamoDB table."""

from __future__ import annotations

from typing import Any


class DynamoTableProbe:
    """Healthy when the table can be described."""

    def __init__(self, client: Any, table: str, name: str = "dynamodb") -> None:
        self.client = client
        self.table = table
        self.name = name

    def check(self) -> None:
        """Raise if DynamoDB or the table cannot be reached."""
        self.client.describe_table(TableName=self.table)
