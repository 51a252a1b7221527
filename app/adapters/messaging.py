"""SQS, Step Functions and EventBridge adapters of the order ports."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from botocore.exceptions import ClientError

from app.adapters.dynamo import error_code
from app.domain.errors import ServiceUnavailable

EVENT_SOURCE = "order-service"


class SqsOrderQueue:
    """Sends `{"orderId": ...}` to the order queue."""

    def __init__(self, client: Any, queue_url: str) -> None:
        self.client = client
        self.queue_url = queue_url

    def enqueue(self, order_id: str) -> None:
        """Send one message."""
        self.client.send_message(QueueUrl=self.queue_url, MessageBody=json.dumps({"orderId": order_id}))


class StepFunctionsStarter:
    """Starts the order workflow; the execution name is the order id, so a duplicate cannot start."""

    def __init__(self, client: Any, state_machine_arn: str) -> None:
        self.client = client
        self.state_machine_arn = state_machine_arn

    def start(self, order_id: str, payload: Mapping[str, Any]) -> bool:
        """True if started, False if an execution of this name already exists."""
        try:
            self.client.start_execution(
                stateMachineArn=self.state_machine_arn, name=order_id, input=json.dumps(dict(payload))
            )
        except ClientError as exc:
            if error_code(exc) == "ExecutionAlreadyExists":
                return False
            raise
        return True


class EventBridgePublisher:
    """Puts domain events on the service's bus with source `order-service`."""

    def __init__(self, client: Any, bus_name: str) -> None:
        self.client = client
        self.bus_name = bus_name

    def publish(self, detail_type: str, detail: Mapping[str, Any]) -> None:
        """Put one event; a rejected entry is transient (retried by the caller)."""
        entry = {
            "Source": EVENT_SOURCE,
            "DetailType": detail_type,
            "Detail": json.dumps(dict(detail)),
            "EventBusName": self.bus_name,
        }
        result = self.client.put_events(Entries=[entry])
        if result.get("FailedEntryCount", 0):
            raise ServiceUnavailable(f"EventBridge rejected {detail_type}: {result['Entries'][0].get('ErrorCode')}")
