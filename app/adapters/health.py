"""Health probes of the backing services."""

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


class SnsTopicProbe:
    """Healthy when the topic's attributes can be read."""

    def __init__(self, client: Any, topic_arn: str, name: str = "sns") -> None:
        self.client = client
        self.topic_arn = topic_arn
        self.name = name

    def check(self) -> None:
        """Raise if SNS or the topic cannot be reached."""
        self.client.get_topic_attributes(TopicArn=self.topic_arn)
