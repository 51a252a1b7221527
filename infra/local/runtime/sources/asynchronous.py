"""Lambda's asynchronous invocation: retries, maximum event age, and the on-failure destination.

An event source that invokes asynchronously (EventBridge, S3, schedules) hands a failed event here
once the function's `EventInvokeConfig` allows no more attempts. With an SQS on-failure destination,
the event goes there in Lambda's destination record, sent with the function's own identity, as
Lambda does with its execution role. Without one, it is dropped with a log line, as in AWS.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from infra.local.provision import client
from infra.local.runtime.functions import FunctionSpec
from infra.local.runtime.worker import Invocation

RETRIES_EXHAUSTED = "RetriesExhausted"
EVENT_AGE_EXCEEDED = "EventAgeExceeded"
Failed = list[tuple[Any, Invocation]]  # (event, its last outcome)


@dataclass(frozen=True)
class GiveUp:
    """Why Lambda stops trying an event: the condition and how many attempts were made."""

    condition: str
    attempts: int


def destination_record(fn: FunctionSpec, event: Any, outcome: Invocation, why: GiveUp) -> dict[str, Any]:
    """What Lambda sends to an on-failure destination."""
    return {
        "version": "1.0",
        "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "requestContext": {
            "requestId": outcome.request_id,
            "functionArn": f"{fn.arn}:$LATEST",
            "condition": why.condition,
            "approximateInvokeCount": why.attempts,
        },
        "requestPayload": event,
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
        "responsePayload": outcome.error,
    }


def give_up(services: Any, fn: FunctionSpec, failed: Failed, why: GiveUp) -> None:
    """Send each failed event to the function's on-failure destination, or drop it with a log line."""
    destination = fn.asynchronous.on_failure
    tried = f"after {why.attempts} attempts ({why.condition})"
    if destination is None:
        services.log(f"[{fn.logical_id}] {len(failed)} event(s) dropped {tried}: no on-failure destination")
        return
    name = destination.rsplit(":", 1)[-1]
    sqs = client(services.stack, "sqs", app_id=fn.logical_id)
    for event, outcome in failed:
        record = destination_record(fn, event, outcome, why)
        sqs.send_message(QueueUrl=services.queue_url(name), MessageBody=json.dumps(record))
    services.log(f"[{fn.logical_id}] {len(failed)} event(s) sent to {name} {tried}")


def expired(fn: FunctionSpec, sent_ms: int, now_ms: int) -> bool:
    """True when the event is older than the function's MaximumEventAgeInSeconds."""
    return now_ms - sent_ms > fn.asynchronous.max_event_age * 1000
