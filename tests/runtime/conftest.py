"""Fixtures: the local cloud provisioned from the runtime's TEST template, and a running LocalRuntime."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from infra.local.cloud import LocalCloud
from infra.local.provision import client, provision
from infra.local.runtime import LocalRuntime
from infra.local.template import Stack, load_template
from tests.conftest import Logs

TEMPLATE = Path(__file__).with_name("template.yaml")


@pytest.fixture
def rt_stack(local_cloud: LocalCloud) -> Stack:
    """A freshly reset local cloud provisioned from tests/runtime/template.yaml."""
    local_cloud.reset()
    stack = Stack(load_template(TEMPLATE), local_cloud.endpoint)
    provision(stack)
    return stack


@pytest.fixture
def rt(rt_stack: Stack, logs: Logs) -> Iterator[LocalRuntime]:
    """The test template's functions, running, with their log lines captured."""
    runtime = started_runtime(rt_stack, logs)
    yield runtime
    runtime.stop()


def started_runtime(stack: Stack, logs: Logs) -> LocalRuntime:
    """The test template's runtime, started with short polls."""
    runtime = LocalRuntime(stack, template_dir=TEMPLATE.parent, log=logs, poll_seconds=1, retry_delay_seconds=1)
    runtime.start(warm=False)  # workers start on first use: a test pays only for what it reaches
    return runtime


def results(stack: Stack, count: int, timeout: float = 60) -> list[dict[str, Any]]:
    """Exactly `count` reports from the test handlers (fails on timeout)."""
    sqs = client(stack, "sqs")
    url = stack.ref("ResultsQueue")
    found: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while len(found) < count:
        assert time.monotonic() < deadline, f"only {len(found)} of {count} results: {found}"
        response = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        for message in response.get("Messages", []):
            found.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return found


def no_more_results(stack: Stack, wait: int = 2) -> None:
    """Nothing else arrives within `wait` seconds."""
    sqs = client(stack, "sqs")
    response = sqs.receive_message(QueueUrl=stack.ref("ResultsQueue"), WaitTimeSeconds=wait)
    assert response.get("Messages", []) == []


def queue_depth(stack: Stack, logical_id: str) -> int:
    """Visible plus in-flight messages of a template queue."""
    attributes = client(stack, "sqs").get_queue_attributes(
        QueueUrl=stack.ref(logical_id),
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])
