"""The local cloud's resources as the console shows them: queues, tables, objects and executions."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from boto3.dynamodb.types import TypeDeserializer

from infra.local.provision import client
from infra.local.status import depth_of, dlq_of, redrive
from infra.local.template import ACCOUNT_ID, Stack

PAGE_SIZE = 25


@dataclass(frozen=True)
class QueueFigures:
    """Depth, in flight, and the DLQ's depth."""

    logical_id: str
    name: str
    depth: int
    in_flight: int
    dlq: str | None
    dlq_depth: int | None
    sources: tuple[str, ...]  # the queues this one is the DLQ of


@dataclass(frozen=True)
class PeekedMessage:
    """One message as it sits in the queue, read without receiving it."""

    message_id: str
    body: str
    attributes: dict[str, str]
    receive_count: int
    sent_at: float
    visible: bool


class Resources:
    """Reads and actions on the stack's queues, tables, buckets and state machines."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack

    @cached_property
    def sqs(self) -> Any:
        """The tooling's SQS client."""
        return client(self.stack, "sqs")

    @cached_property
    def dynamodb(self) -> Any:
        """The tooling's DynamoDB client."""
        return client(self.stack, "dynamodb")

    @cached_property
    def s3(self) -> Any:
        """The tooling's S3 client."""
        return client(self.stack, "s3")

    @cached_property
    def sfn(self) -> Any:
        """The tooling's Step Functions client."""
        return client(self.stack, "stepfunctions")

    # Queues

    def queue_ids(self) -> list[str]:
        """The template's queues."""
        return sorted(self.stack.of_type("AWS::SQS::Queue"))

    def queue(self, logical_id: str) -> QueueFigures:
        """One queue's figures."""
        depth, in_flight = depth_of(self.sqs, self.stack, logical_id)
        dlq = dlq_of(self.stack, logical_id)
        sources = tuple(q for q in self.queue_ids() if dlq_of(self.stack, q) == logical_id)
        dlq_depth = depth_of(self.sqs, self.stack, dlq)[0] if dlq else None
        return QueueFigures(logical_id, self.stack.name(logical_id), depth, in_flight, dlq, dlq_depth, sources)

    def peek(self, logical_id: str, limit: int = 50) -> list[PeekedMessage]:
        """The queue's messages, read from the local cloud's memory: receiving would consume a receive count."""
        from moto.sqs.models import sqs_backends

        queue = sqs_backends[ACCOUNT_ID][self.stack.region].queues.get(self.stack.name(logical_id))
        messages = list(queue._messages) if queue is not None else []
        return [
            PeekedMessage(
                message_id=m.id,
                body=m.body,
                attributes={k: str(v.get("StringValue", "")) for k, v in m.message_attributes.items()},
                receive_count=int(m.approximate_receive_count),
                sent_at=int(m.sent_timestamp or 0) / 1000,
                visible=bool(m.visible),
            )
            for m in messages[:limit]
        ]

    def redrive(self, dlq: str) -> int:
        """Move the DLQ's messages back to its source queue; how many moved."""
        return redrive(self.stack, dlq)

    def purge(self, logical_id: str) -> None:
        """Delete every message of the queue."""
        self.sqs.purge_queue(QueueUrl=self.stack.ref(logical_id))

    # Tables and buckets

    def table_ids(self) -> list[str]:
        """The template's tables."""
        return sorted(self.stack.of_type("AWS::DynamoDB::Table"))

    def key_schema(self, logical_id: str) -> list[str]:
        """The table's key attribute names: partition first."""
        described = self.dynamodb.describe_table(TableName=self.stack.name(logical_id))["Table"]
        return [k["AttributeName"] for k in sorted(described["KeySchema"], key=lambda k: k["KeyType"] != "HASH")]

    def item_count(self, logical_id: str) -> int:
        """How many items the table holds."""
        return int(self.dynamodb.describe_table(TableName=self.stack.name(logical_id))["Table"].get("ItemCount", 0))

    def items(self, logical_id: str, cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
        """One page of the table and the cursor of the next."""
        request: dict[str, Any] = {"TableName": self.stack.name(logical_id), "Limit": PAGE_SIZE}
        if cursor:
            request["ExclusiveStartKey"] = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        page = self.dynamodb.scan(**request)
        last = page.get("LastEvaluatedKey")
        following = base64.urlsafe_b64encode(json.dumps(last).encode()).decode() if last else None
        return [plain(item) for item in page.get("Items", [])], following

    def lookup(self, logical_id: str, key: dict[str, str]) -> dict[str, Any] | None:
        """One item by its key (string key attributes)."""
        request = {"TableName": self.stack.name(logical_id), "Key": {k: {"S": v} for k, v in key.items()}}
        item = self.dynamodb.get_item(**request).get("Item")
        return plain(item) if item else None

    def bucket_ids(self) -> list[str]:
        """The template's buckets."""
        return sorted(self.stack.of_type("AWS::S3::Bucket"))

    def objects(self, logical_id: str) -> list[dict[str, Any]]:
        """The bucket's objects (the first thousand)."""
        listed = self.s3.list_objects_v2(Bucket=self.stack.name(logical_id))
        return list(listed.get("Contents", []))

    # Executions

    def state_machines(self) -> list[dict[str, Any]]:
        """The local cloud's state machines."""
        return list(self.sfn.list_state_machines()["stateMachines"])

    def executions(self, status: str | None = None) -> list[dict[str, Any]]:
        """Every execution, newest first, optionally of one status."""
        found: list[dict[str, Any]] = []
        for machine in self.state_machines():
            request: dict[str, Any] = {"stateMachineArn": machine["stateMachineArn"]}
            if status:
                request["statusFilter"] = status
            for page in self.sfn.get_paginator("list_executions").paginate(**request):
                found += page.get("executions", [])
        return sorted(found, key=lambda e: e["startDate"], reverse=True)

    def execution(self, arn: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """DescribeExecution and the whole history."""
        described = self.sfn.describe_execution(executionArn=arn)
        history: list[dict[str, Any]] = []
        for page in self.sfn.get_paginator("get_execution_history").paginate(executionArn=arn):
            history += page.get("events", [])
        return described, history


def plain(item: dict[str, Any]) -> dict[str, Any]:
    """A DynamoDB item as plain JSON values."""
    deserializer = TypeDeserializer()
    return {k: _jsonable(deserializer.deserialize(v)) for k, v in item.items()}


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | set | tuple):
        return [_jsonable(v) for v in value]
    if hasattr(value, "as_integer_ratio") and not isinstance(value, bool | int | float):
        return int(value) if value == int(value) else float(value)  # Decimal
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(bytes(value)).decode()
    return value
