"""Helpers of the event and cleanup integration tests: run a worker as its function, capture what it sends."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import pytest

from app.settings import get_settings
from infra.local.env import function_env
from infra.local.provision import client as aws
from infra.local.template import Stack


def as_worker(stack: Stack, monkeypatch: pytest.MonkeyPatch, logical_id: str) -> None:
    """The worker modules' services now see this function's environment (calls attributed to it)."""
    import workers.common

    for key, value in function_env(stack, logical_id).items():
        monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    workers.common.services.cache_clear()


def as_api(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    """Back to the API's environment; the app's container is rebuilt on its next request."""
    from app.bootstrap import get_container

    as_worker(stack, monkeypatch, "ApiFunction")
    get_container.cache_clear()


def _queue(stack: Stack, prefix: str) -> tuple[str, str]:
    sqs = aws(stack, "sqs")
    url = sqs.create_queue(QueueName=f"{prefix}-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, arn


def subscribe_queue(stack: Stack, topic_logical_id: str = "NotificationTopic") -> str:
    """A new queue subscribed to the topic (SNS envelopes); its URL."""
    url, arn = _queue(stack, "capture-sns")
    aws(stack, "sns").subscribe(TopicArn=stack.ref(topic_logical_id), Protocol="sqs", Endpoint=arn)
    return url


def capture_events(stack: Stack, *detail_types: str) -> str:
    """A new queue receiving the bus's events of these detail-types (full envelopes); its URL."""
    url, arn = _queue(stack, "capture-events")
    events = aws(stack, "events")
    bus = stack.name("OrderEventBus")
    name = f"capture-{uuid.uuid4().hex[:8]}"
    pattern = {"source": ["order-service"], "detail-type": list(detail_types)}
    events.put_rule(Name=name, EventBusName=bus, EventPattern=json.dumps(pattern), State="ENABLED")
    events.put_targets(Rule=name, EventBusName=bus, Targets=[{"Id": "q", "Arn": arn}])
    return url


def drain(stack: Stack, url: str, expected: int, timeout: float = 60) -> list[dict[str, Any]]:
    """Receive (and delete) until `expected` messages arrived; their parsed bodies."""
    sqs = aws(stack, "sqs")
    bodies: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while len(bodies) < expected and time.monotonic() < deadline:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
        for message in got:
            bodies.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return bodies
