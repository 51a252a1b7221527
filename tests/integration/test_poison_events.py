"""A poison event end to end on the real template: retried, then found with its error in the DLQ."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from infra.local.provision import client
from infra.local.runtime import LocalRuntime
from infra.local.template import Stack


def dead_letters(stack: Stack, timeout: float = 90) -> list[dict[str, Any]]:
    sqs = client(stack, "sqs")
    url = sqs.get_queue_url(QueueName=stack.name("EventsDeadLetterQueue"))["QueueUrl"]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
        if messages:
            return [json.loads(m["Body"]) for m in messages]
    raise AssertionError("nothing reached EventsDeadLetterQueue")


@pytest.mark.slow
def test_an_order_processed_event_its_consumer_cannot_process_reaches_the_events_dlq(
    stack: Stack, runtime: LocalRuntime
) -> None:
    detail = {"orderId": "o-poison", "userId": "ada", "status": "CONFIRMED", "items": [], "total": 0, "currency": "USD"}
    entry = {
        "EventBusName": stack.name("OrderEventBus"),
        "Source": "order-service",
        "DetailType": "OrderProcessed",
        "Detail": json.dumps(detail),  # no items: the contract refuses it on every attempt
    }
    client(stack, "events").put_events(Entries=[entry])

    (record,) = dead_letters(stack)

    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 3  # the template's MaximumRetryAttempts: 2
    assert record["requestContext"]["functionArn"].endswith(f"function:{stack.name('OrderEventsFunction')}:$LATEST")
    assert (record["requestPayload"]["detail-type"], record["requestPayload"]["detail"]) == ("OrderProcessed", detail)
    assert record["responsePayload"]["errorType"] == "ValidationError"
