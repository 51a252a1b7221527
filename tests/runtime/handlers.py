"""Test-only Lambda handlers for the local runtime tests; each reports what it saw to a results queue."""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from typing import Any

import boto3

_calls: Counter[str] = Counter()


class TransientError(Exception):
    pass


class PaymentDeclined(Exception):
    pass


def _report(kind: str, payload: Any) -> None:
    sqs: Any = boto3.client("sqs")
    sqs.send_message(QueueUrl=os.environ["RESULTS_QUEUE_URL"], MessageBody=json.dumps({"kind": kind, **payload}))


def echo(event: Any, context: Any) -> dict[str, Any]:
    _calls["echo"] += 1
    if isinstance(event, dict) and event.get("raise"):
        raise ValueError(event["raise"])
    context.log("echo handler says hi\n")
    return {
        "event": event,
        "calls": _calls["echo"],
        "pid": os.getpid(),
        "greeting": os.environ["GREETING"],
        "app_id": os.environ["AWS_SDK_UA_APP_ID"],
        "function_name": context.function_name,
        "request_id": context.aws_request_id,
        "arn": context.invoked_function_arn,
        "memory": context.memory_limit_in_mb,
        "remaining": context.get_remaining_time_in_millis(),
        "context": sorted(k for k in vars(context) if not k.startswith("_")),
    }


def slow(event: Any, context: Any) -> dict[str, Any]:
    _calls["slow"] += 1
    time.sleep(event.get("sleep", 0))
    return {"calls": _calls["slow"], "pid": os.getpid(), "remaining": context.get_remaining_time_in_millis()}


def record(event: Any, context: Any) -> None:
    _report(context.function_name, {"event": event})


def partial(event: Any, context: Any) -> dict[str, Any]:
    bodies = [r["body"] for r in event["Records"]]
    _report(
        "partial", {"bodies": bodies, "counts": [r["attributes"]["ApproximateReceiveCount"] for r in event["Records"]]}
    )
    if "raise" in bodies:
        raise RuntimeError("batch contains a poison message")
    return {"batchItemFailures": [{"itemIdentifier": r["messageId"]} for r in event["Records"] if r["body"] == "fail"]}


def reserve(event: dict[str, Any], context: Any) -> dict[str, Any]:
    _calls[event["order"]] += 1
    if _calls[event["order"]] == 1:
        raise TransientError("inventory service busy")
    return {"reserved": event["order"], "attempt": _calls[event["order"]]}


def charge(event: dict[str, Any], context: Any) -> dict[str, Any]:
    if event["amount"] > 100:
        raise PaymentDeclined(f"card declined for {event['amount']}")
    return {"charged": event["amount"]}


def unmarshallable(event: Any, context: Any) -> set[int]:
    return {1, 2}


def flaky(event: Any, context: Any) -> None:
    """Reports each attempt; fails while the event says so (`failures`: how many attempts fail)."""
    detail = event.get("detail", {})
    marker = detail.get("marker")
    attempt = 1
    if marker:  # attempts counted on disk: each retry may land on another worker process
        with open(marker, "a+") as tally:
            tally.write("x")
            tally.seek(0)
            attempt = len(tally.read())
    _report(context.function_name, {"attempt": attempt, "id": event.get("id")})
    if attempt <= int(detail.get("failures", 0)):
        raise ValueError(f"attempt {attempt} fails")


def poison(event: Any, context: Any) -> None:
    """Fails on every event."""
    raise RuntimeError("cannot process this event")
