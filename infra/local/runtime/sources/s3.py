"""S3 event notifications to a function: locally the bucket notifies a runtime-owned queue.

The runtime adds a QueueConfiguration (events and key filter from the template) to the bucket's
notification configuration, then delivers each message as an asynchronous invocation with the
standard S3 event, retried twice on error like Lambda's asynchronous invocations.
"""

from __future__ import annotations

import json
from typing import Any

from infra.local.runtime.events import s3_event
from infra.local.runtime.functions import FunctionSpec
from infra.local.runtime.sources.base import AsyncQueueSource, Services, Source

_NOTIFICATION_KEYS = (
    "QueueConfigurations",
    "TopicConfigurations",
    "LambdaFunctionConfigurations",
    "EventBridgeConfiguration",
)


class S3Source(AsyncQueueSource):
    """One `S3` event of one function: the bucket's notification, through a runtime queue."""

    def __init__(self, services: Services, fn: FunctionSpec, name: str, props: dict[str, Any]) -> None:
        resolved = services.stack.resolve(props)
        events = resolved["Events"]
        self.services = services
        self.fn = fn
        self.bucket = str(resolved["Bucket"])
        self.events = [events] if isinstance(events, str) else list(events)
        self.rules = resolved.get("Filter", {}).get("S3Key", {}).get("Rules", [])
        self.configuration_id = f"{fn.logical_id}{name}"
        self.queue_name = services.runtime_name("s3", fn.logical_id, name)
        self.queue_url = services.queue_url(self.queue_name)
        self.description = f"{fn.logical_id}.{name}: S3 {','.join(self.events)} on {self.bucket}"
        self.sqs = services.client("sqs")

    def setup(self) -> None:
        """The queue, then the bucket's notification to it (added to any the bucket has)."""
        queue_arn = self.create_queue()
        s3 = self.services.client("s3")
        current = s3.get_bucket_notification_configuration(Bucket=self.bucket)
        config = {k: current[k] for k in _NOTIFICATION_KEYS if k in current}
        queue: dict[str, Any] = {"Id": self.configuration_id, "QueueArn": queue_arn, "Events": self.events}
        if self.rules:
            queue["Filter"] = {"Key": {"FilterRules": self.rules}}
        config["QueueConfigurations"] = [*config.get("QueueConfigurations", []), queue]
        s3.put_bucket_notification_configuration(Bucket=self.bucket, NotificationConfiguration=config)

    def events_of(self, message: dict[str, Any]) -> list[Any]:
        """One invocation per record, in the standard S3 event shape."""
        body = json.loads(message["Body"])
        records = body.get("Records", []) if isinstance(body, dict) else []
        # S3 sends one s3:TestEvent (no Records) when the configuration is saved: nothing to deliver.
        return [s3_event(r, self.services.stack.region) for r in records]


def s3_sources(services: Services, fn: FunctionSpec, name: str, props: dict[str, Any]) -> list[Source]:
    """The source of a function's `S3` event."""
    return [S3Source(services, fn, name, props)]
