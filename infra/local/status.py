"""`make status` and `make redrive`: the running stack at a glance, and a DLQ moved back to its source.

Function figures come from the file `make run` keeps in the state folder (the runtime counts every
invocation); queues and executions are read from the local cloud itself.
"""

from __future__ import annotations

import json
import os
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import requests

from infra.local.paths import KEYS_PATH, STATE_DIR
from infra.local.provision import client
from infra.local.template import Stack

FUNCTIONS_FILE = "functions.json"
RECENT_EXECUTIONS = 10


class NotRunning(Exception):
    """Nothing answers on the local AWS port."""


def write_function_stats(directory: Path, stats: dict[str, dict[str, Any]]) -> None:
    """Replace the functions file atomically (a reader never sees half of it)."""
    directory.mkdir(parents=True, exist_ok=True)
    temporary = directory / f"{FUNCTIONS_FILE}.{os.getpid()}.tmp"
    temporary.write_text(json.dumps({"updated": time.time(), "functions": stats}))
    os.replace(temporary, directory / FUNCTIONS_FILE)


def _queues(stack: Stack) -> list[str]:
    sqs = client(stack, "sqs")
    queues = stack.of_type("AWS::SQS::Queue")
    redrivable = {d for q in queues if (d := dlq_of(stack, q)) is not None}
    lines = [f"{'Queues':<32}{'depth':>5}  {'in flight':>9}  {'DLQ depth':>9}"]
    for logical in sorted(queues):
        depth, flight = depth_of(sqs, stack, logical)
        dlq = dlq_of(stack, logical)
        dlq_depth = str(depth_of(sqs, stack, dlq)[0]) if dlq else "-"
        note = f"  (make redrive QUEUE={logical})" if logical in redrivable and depth else ""
        lines.append(f"  {logical:<30}{depth:>5}  {flight:>9}  {dlq_depth:>9}{note}")
    return lines


def depth_of(sqs: Any, stack: Stack, logical: str) -> tuple[int, int]:
    """A queue's visible and in-flight message counts."""
    url = sqs.get_queue_url(QueueName=stack.name(logical))["QueueUrl"]
    names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]
    return int(attributes[names[0]]), int(attributes[names[1]])


def dlq_of(stack: Stack, logical: str) -> str | None:
    """The logical id of the queue's DLQ, from its RedrivePolicy."""
    policy = stack.of_type("AWS::SQS::Queue")[logical].get("Properties", {}).get("RedrivePolicy", {})
    target = policy.get("deadLetterTargetArn", {})
    attribute = target.get("Fn::GetAtt") if isinstance(target, dict) else None
    return str(attribute[0]) if isinstance(attribute, list) else None


def _functions(directory: Path) -> list[str]:
    try:
        recorded = json.loads((directory / FUNCTIONS_FILE).read_text())
    except (OSError, ValueError):
        return ["Functions: no figures yet (`make run` writes them while it runs)"]
    lines = ["Functions                       invocations  errors  last error"]
    for name, stats in sorted(recorded["functions"].items()):
        last = stats.get("last_error") or ""
        at = stats.get("last_error_at")
        when = f"{datetime.fromtimestamp(at).strftime('%H:%M:%S')} " if at else ""
        lines.append(f"  {name:<29} {stats['invocations']:>11}  {stats['errors']:>6}  {when}{last[:90]}")
    return lines


def _executions(stack: Stack) -> list[str]:
    sfn = client(stack, "stepfunctions")
    lines = ["Recent executions"]
    for machine in sfn.list_state_machines()["stateMachines"]:
        listed = sfn.list_executions(stateMachineArn=machine["stateMachineArn"])["executions"]
        listed.sort(key=lambda e: e["startDate"], reverse=True)
        counts: dict[str, int] = {}
        for execution in listed:
            counts[execution["status"]] = counts.get(execution["status"], 0) + 1
        summary = ", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "none yet"
        lines.append(f"  {machine['name']}: {summary}")
        for execution in listed[:RECENT_EXECUTIONS]:
            started = execution["startDate"].strftime("%H:%M:%S")
            lines.append(f"    {started}  {execution['status']:<10} {execution['name']}")
    return lines


HOT_KEYS = 8


def dynamodb_keys(stack: Stack) -> dict[str, Any]:
    """The local DynamoDB's units and throttled requests per table and key (infra.local.throttling)."""
    answer = requests.get(f"{stack.endpoint}{KEYS_PATH}", timeout=10)
    answer.raise_for_status()
    report: dict[str, Any] = answer.json()
    return report


def _hot_keys(stack: Stack) -> list[str]:
    report = dynamodb_keys(stack)
    rows = report["keys"][:HOT_KEYS]
    limits = f"{1000 * report['scale']:g} WCU, {3000 * report['scale']:g} RCU a second per key"
    lines = [f"DynamoDB keys (hottest first; limit {limits})   throttled  write units  read units"]
    for row in rows:
        name = f"{row['table']} {row['key']}"
        lines.append(f"  {name[:46]:<46} {row['throttled']:>9}  {row['writeUnits']:>11g}  {row['readUnits']:>10g}")
    return lines if rows else [*lines, "  none yet"]


def status(stack: Stack, directory: Path = STATE_DIR) -> str:
    """The status report of the running stack; NotRunning when the local AWS does not answer."""
    try:
        queues = _queues(stack)
    except Exception as exc:
        if type(exc).__name__ in ("EndpointConnectionError", "ConnectionClosedError"):
            raise NotRunning(f"nothing answers on {stack.endpoint}: start `make run` first") from exc
        raise
    return "\n".join([*_functions(directory), "", *queues, "", *_hot_keys(stack), "", *_executions(stack)])


def redrive(stack: Stack, dlq_logical_id: str) -> int:
    """Move every message of a DLQ back to the queue that dead-letters into it; how many moved.

    As SQS's message-move task does: each message is sent to the source, then deleted from the DLQ,
    so a crash in between duplicates a message but never loses one.
    """
    queues = stack.of_type("AWS::SQS::Queue")
    sources = [q for q in queues if dlq_of(stack, q) == dlq_logical_id]
    if dlq_logical_id not in queues or not sources:
        dlqs = sorted({d for q in queues if (d := dlq_of(stack, q)) is not None})
        raise KeyError(f"{dlq_logical_id!r} is not a queue's DLQ; one of: {', '.join(dlqs)}")
    sqs = client(stack, "sqs")
    dlq_url = sqs.get_queue_url(QueueName=stack.name(dlq_logical_id))["QueueUrl"]
    source_url = sqs.get_queue_url(QueueName=stack.name(sources[0]))["QueueUrl"]
    moved = 0
    while True:
        batch = sqs.receive_message(
            QueueUrl=dlq_url, MaxNumberOfMessages=10, MessageAttributeNames=["All"], VisibilityTimeout=30
        ).get("Messages", [])
        if not batch:
            return moved
        for message in batch:
            request: dict[str, Any] = {"QueueUrl": source_url, "MessageBody": message["Body"]}
            if message.get("MessageAttributes"):
                request["MessageAttributes"] = message["MessageAttributes"]
            sqs.send_message(**request)
            sqs.delete_message(QueueUrl=dlq_url, ReceiptHandle=message["ReceiptHandle"])
            moved += 1
