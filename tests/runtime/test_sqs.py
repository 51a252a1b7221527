"""SQS event source mappings: batch size and window, partial batch responses, redrive to the DLQ."""

from __future__ import annotations

import hashlib
import json
import time
from collections import Counter

from infra.local.provision import client
from infra.local.runtime import LocalRuntime
from infra.local.runtime.sources.sqs import failed_ids
from infra.local.template import Stack
from tests.runtime.conftest import no_more_results, queue_depth, results


def test_window_gathers_a_batch_and_batch_size_caps_it(rt: LocalRuntime, rt_stack: Stack) -> None:
    sqs = client(rt_stack, "sqs")
    url = rt_stack.ref("BatchQueue")
    for index in range(3):
        sqs.send_message(
            QueueUrl=url,
            MessageBody=f"slow-{index}",
            MessageAttributes={"tenant": {"DataType": "String", "StringValue": "acme"}},
        )
        time.sleep(0.3)
    (first,) = results(rt_stack, 1)
    sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": f"fast-{i}"} for i in range(6)])
    later = results(rt_stack, 2)

    records = first["event"]["Records"]
    assert [r["body"] for r in records] == ["slow-0", "slow-1", "slow-2"]
    sizes = sorted(len(r["event"]["Records"]) for r in later)
    assert sizes == [2, 4]
    assert sorted(rec["body"] for r in later for rec in r["event"]["Records"]) == [f"fast-{i}" for i in range(6)]
    record = records[0]
    assert set(record) == {
        "messageId", "receiptHandle", "body", "attributes", "messageAttributes",
        "md5OfBody", "md5OfMessageAttributes", "eventSource", "eventSourceARN", "awsRegion",
    }  # fmt: skip
    assert record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"] == rt_stack.arn("BatchQueue")
    assert record["awsRegion"] == rt_stack.region
    assert record["md5OfBody"] == hashlib.md5(b"slow-0").hexdigest()
    assert record["messageAttributes"]["tenant"] == {
        "stringValue": "acme", "stringListValues": [], "binaryListValues": [], "dataType": "String",
    }  # fmt: skip
    assert {"ApproximateReceiveCount", "SentTimestamp", "SenderId", "ApproximateFirstReceiveTimestamp"} <= set(
        record["attributes"]
    )
    assert record["attributes"]["ApproximateReceiveCount"] == "1"
    time.sleep(0.5)
    assert queue_depth(rt_stack, "BatchQueue") == 0  # successes are deleted


def _dlq_bodies(stack: Stack, expected: int) -> list[str]:
    sqs = client(stack, "sqs")
    deadline = time.monotonic() + 20
    bodies: list[str] = []
    while len(bodies) < expected and time.monotonic() < deadline:
        response = sqs.receive_message(
            QueueUrl=stack.ref("WorkDeadLetterQueue"), MaxNumberOfMessages=10, WaitTimeSeconds=1
        )
        bodies += [m["Body"] for m in response.get("Messages", [])]
    return sorted(bodies)


def test_reported_failures_are_redelivered_then_dead_lettered_after_three_receives(
    rt: LocalRuntime, rt_stack: Stack
) -> None:
    client(rt_stack, "sqs").send_message_batch(
        QueueUrl=rt_stack.ref("WorkQueue"),
        Entries=[{"Id": str(i), "MessageBody": body} for i, body in enumerate(["ok-1", "fail", "ok-2"])],
    )
    reports = results(rt_stack, 3)

    seen = Counter(body for r in reports for body in r["bodies"])
    assert seen == {"ok-1": 1, "ok-2": 1, "fail": 3}
    fail_counts = [c for r in reports for b, c in zip(r["bodies"], r["counts"], strict=True) if b == "fail"]
    assert fail_counts == ["1", "2", "3"]
    assert _dlq_bodies(rt_stack, 1) == ["fail"]
    assert queue_depth(rt_stack, "WorkQueue") == 0


def test_a_raising_batch_is_redelivered_whole(rt: LocalRuntime, rt_stack: Stack, logs: list[str]) -> None:
    client(rt_stack, "sqs").send_message_batch(
        QueueUrl=rt_stack.ref("WorkQueue"),
        Entries=[{"Id": str(i), "MessageBody": body} for i, body in enumerate(["raise", "innocent"])],
    )
    reports = results(rt_stack, 3)

    assert all(sorted(r["bodies"]) == ["innocent", "raise"] for r in reports)
    assert [r["counts"] for r in reports] == [["1", "1"], ["2", "2"], ["3", "3"]]
    assert _dlq_bodies(rt_stack, 2) == ["innocent", "raise"]
    assert any("[ProbePartial] [ERROR] RuntimeError: batch contains a poison message" in line for line in logs)
    # The runtime still serves other functions after the failures.
    assert rt.invoke("ProbeEcho", {}).ok


def test_batch_item_failures_follow_lambdas_rules() -> None:
    ids = ["a", "b"]
    assert failed_ids(None, ids) == set()
    assert failed_ids({}, ids) == set()
    assert failed_ids({"batchItemFailures": []}, ids) == set()
    assert failed_ids({"batchItemFailures": [{"itemIdentifier": "b"}]}, ids) == {"b"}
    # Invalid responses fail the whole batch.
    assert failed_ids("oops", ids) is None
    assert failed_ids({"batchItemFailures": "b"}, ids) is None
    assert failed_ids({"batchItemFailures": [{"itemIdentifier": ""}]}, ids) is None
    assert failed_ids({"batchItemFailures": [{"itemIdentifier": "zzz"}]}, ids) is None
    assert failed_ids({"batchItemFailures": [{"id": "a"}]}, ids) is None


def test_filter_criteria_deliver_only_matching_messages_and_delete_the_rest(rt: LocalRuntime, rt_stack: Stack) -> None:
    sqs = client(rt_stack, "sqs")
    url = rt_stack.ref("FilteredQueue")
    bodies = [
        json.dumps({"kind": "wanted", "amount": 42}),
        json.dumps({"kind": "wanted", "amount": 3}),  # fails the numeric condition
        json.dumps({"kind": "other", "amount": 42}),
        "urgent: call back",  # plain text, matched by the prefix filter
        "not urgent",
    ]
    for body in bodies:
        sqs.send_message(QueueUrl=url, MessageBody=body)

    delivered: list[str] = []
    while len(delivered) < 2:  # in one batch or two
        delivered += [r["body"] for report in results(rt_stack, 1) for r in report["event"]["Records"]]
    no_more_results(rt_stack, wait=3)

    delivered.sort()
    assert delivered == sorted([bodies[0], bodies[3]])
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    # Filtered-out messages are gone, not waiting to be redelivered.
    assert (attributes["ApproximateNumberOfMessages"], attributes["ApproximateNumberOfMessagesNotVisible"]) == (
        "0",
        "0",
    )
