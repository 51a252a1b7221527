"""Asynchronous invocations as Lambda runs them: retried per EventInvokeConfig, then sent to the
on-failure destination with the event and the error, never silently dropped."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

from infra.local.provision import client
from infra.local.runtime import LocalRuntime
from infra.local.runtime.sources.base import AsyncQueueSource
from infra.local.runtime.sources.schedule import ScheduleSource
from infra.local.template import Stack
from tests.conftest import Logs
from tests.runtime.conftest import TEMPLATE, no_more_results, results


def put(stack: Stack, detail: dict[str, Any]) -> None:
    entry = {
        "EventBusName": stack.name("Bus"),
        "Source": "test.flaky",
        "DetailType": "Flaky",
        "Detail": json.dumps(detail),
    }
    client(stack, "events").put_events(Entries=[entry])


def destination_records(stack: Stack, count: int, timeout: float = 60) -> list[dict[str, Any]]:
    sqs = client(stack, "sqs")
    url = sqs.get_queue_url(QueueName=stack.name("FailuresQueue"))["QueueUrl"]
    found: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while len(found) < count:
        assert time.monotonic() < deadline, f"{len(found)} of {count} records reached the destination"
        for message in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", []):
            found.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return found


def test_a_poison_event_is_retried_then_sent_to_the_on_failure_destination(
    rt: LocalRuntime, rt_stack: Stack, tmp_path: Path
) -> None:
    put(rt_stack, {"marker": str(tmp_path / "poison"), "failures": 99})

    attempts = results(rt_stack, 2)  # MaximumRetryAttempts: 1
    (record,) = destination_records(rt_stack, 1)
    no_more_results(rt_stack)

    assert sorted(a["attempt"] for a in attempts) == [1, 2]
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 2
    assert record["requestContext"]["functionArn"].endswith(f":function:{rt_stack.name('ProbeFlaky')}:$LATEST")
    assert record["requestPayload"]["id"] == attempts[0]["id"]  # the event itself, in its envelope
    assert record["requestPayload"]["detail"]["failures"] == 99
    assert (record["responsePayload"]["errorType"], record["responsePayload"]["errorMessage"]) == (
        "ValueError",
        "attempt 2 fails",
    )


def test_an_event_that_succeeds_on_its_retry_reaches_no_destination(
    rt: LocalRuntime, rt_stack: Stack, tmp_path: Path
) -> None:
    put(rt_stack, {"marker": str(tmp_path / "flaky"), "failures": 1})

    attempts = results(rt_stack, 2)
    no_more_results(rt_stack, wait=3)

    assert sorted(a["attempt"] for a in attempts) == [1, 2]
    sqs = client(rt_stack, "sqs")
    url = sqs.get_queue_url(QueueName=rt_stack.name("FailuresQueue"))["QueueUrl"]
    assert sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1).get("Messages", []) == []


def test_an_event_older_than_its_maximum_age_is_not_retried(rt_stack: Stack, logs: Logs, tmp_path: Path) -> None:
    runtime = LocalRuntime(rt_stack, template_dir=TEMPLATE.parent, log=logs, poll_seconds=1, retry_delay_seconds=1)
    flaky = runtime.functions["ProbeFlaky"]
    (source,) = [s for s in runtime._build_sources() if getattr(s, "fn", None) is flaky]
    assert isinstance(source, AsyncQueueSource)
    source.setup()
    put(rt_stack, {"marker": str(tmp_path / "old"), "failures": 99})
    sqs = client(rt_stack, "sqs")
    message: dict[str, Any] = {}
    while not message:
        got = sqs.receive_message(QueueUrl=source.queue_url, WaitTimeSeconds=1, AttributeNames=["All"])
        message = next(iter(got.get("Messages", [])), {})
    # Sent seven hours ago: past MaximumEventAgeInSeconds (six hours by default).
    message["Attributes"]["SentTimestamp"] = str(int((time.time() - 7 * 3600) * 1000))

    try:
        source.deliver(message)
    finally:
        runtime.pools["ProbeFlaky"].close()

    (record,) = destination_records(rt_stack, 1)
    assert (record["requestContext"]["condition"], record["requestContext"]["approximateInvokeCount"]) == (
        "EventAgeExceeded",
        1,
    )


def test_a_poison_s3_event_reaches_the_on_failure_destination(rt: LocalRuntime, rt_stack: Stack) -> None:
    client(rt_stack, "s3").put_object(Bucket=rt_stack.name("UploadsBucket"), Key="in/poison.csv", Body=b"x")

    (record,) = destination_records(rt_stack, 1)

    assert record["requestContext"]["functionArn"].endswith(f":function:{rt_stack.name('ProbePoison')}:$LATEST")
    assert record["requestContext"]["approximateInvokeCount"] == 1  # MaximumRetryAttempts: 0
    assert record["requestPayload"]["Records"][0]["s3"]["object"]["key"] == "in/poison.csv"
    assert record["responsePayload"]["errorType"] == "RuntimeError"


def test_a_failing_schedule_reaches_the_on_failure_destination(rt_stack: Stack, logs: Logs) -> None:
    runtime = LocalRuntime(rt_stack, template_dir=TEMPLATE.parent, log=logs, poll_seconds=1, retry_delay_seconds=1)
    poison = runtime.functions["ProbePoison"]
    (schedule,) = [s for s in runtime._build_sources() if isinstance(s, ScheduleSource) and s.fn is poison]
    try:
        schedule.fire_async(threading.Event())  # as the clock fires it
    finally:
        runtime.pools["ProbePoison"].close()

    (record,) = destination_records(rt_stack, 1)
    assert record["requestPayload"]["detail-type"] == "Scheduled Event"
    assert (record["requestContext"]["condition"], record["responsePayload"]["errorType"]) == (
        "RetriesExhausted",
        "RuntimeError",
    )
