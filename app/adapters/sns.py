"""SNS implementation of Publisher."""

from __future__ import annotations

from typing import Any

from app.services.ports.common import Message


class SnsPublisher:
    """Publishes messages with string message attributes, so subscribers can filter."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def publish(self, message: Message) -> None:
        """Publish one message."""
        args: dict[str, Any] = {
            "TopicArn": message.topic_arn,
            "Message": message.body,
            "MessageAttributes": {k: {"DataType": "String", "StringValue": v} for k, v in message.attributes.items()},
        }
        if message.subject:
            args["Subject"] = message.subject
        self.client.publish(**args)


class SnsTopicProbe:
    """Healthy when the topic's attributes can be read."""

    def __init__(self, client: Any, topic_arn: str, name: str = "sns") -> None:
        self.client = client
        self.topic_arn = topic_arn
        self.name = name

    def check(self) -> None:
        """Raise if SNS or the topic cannot be reached."""
        self.client.get_topic_attributes(TopicArn=self.topic_arn)
