"""The SQS consumers' partial batch responses: only failed records come back, and nothing is lost."""

from __future__ import annotations

import json

import pytest

from infra.local.payloads import sqs_event
from workers.sqs_batch import QueueMessage, partial_batch


def test_each_failed_record_is_reported_alone_and_the_others_are_handled() -> None:
    event = sqs_event({"n": 1}, {"n": 2}, {"n": 3})
    handled: list[int] = []

    def handle(message: QueueMessage) -> None:
        n = json.loads(message.body)["n"]
        if n == 2:
            raise RuntimeError("boom")
        handled.append(n)

    reply = partial_batch(event, handle)
    assert handled == [1, 3]
    assert reply == {"batchItemFailures": [{"itemIdentifier": event["Records"][1]["messageId"]}]}


def test_a_batch_whose_every_record_fails_is_a_reply_not_an_error() -> None:
    event = sqs_event("a", "b")
    reply = partial_batch(event, lambda _: 1 / 0)
    assert [f["itemIdentifier"] for f in reply["batchItemFailures"]] == [r["messageId"] for r in event["Records"]]


def test_an_empty_batch_reports_nothing() -> None:
    assert partial_batch({"Records": []}, lambda _: None) == {"batchItemFailures": []}


@pytest.mark.parametrize("event", [{}, {"Records": "x"}, None, {"Records": [{"body": "no id"}]}, {"Records": [7]}])
def test_an_event_that_is_not_an_sqs_batch_handles_nothing_and_fails(event: object) -> None:
    handled: list[QueueMessage] = []
    with pytest.raises(ValueError, match="SQS"):
        partial_batch(event, handled.append)
    assert handled == []
