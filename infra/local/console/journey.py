"""One order across every service, in time order: request, queue, execution, tasks, events, notification."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import quote

from infra.local.console.recorder import InvocationRecord, Recorder
from infra.local.console.resources import Resources
from infra.local.console.workflow import SUCCEEDED, runs


@dataclass(frozen=True)
class Step:
    """One thing that happened to the order."""

    at: float
    kind: str
    title: str
    detail: str = ""
    link: str | None = None
    status: str = "neutral"  # succeeded, failed, caught, retried, running, neutral


@dataclass
class Journey:
    """An order's steps, oldest first."""

    order_id: str
    correlation_ids: list[str] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)


def order_of(needle: str, recorder: Recorder) -> str:
    """The order id behind a correlation id (the request that created it), or the needle itself."""
    for request in recorder.requests():
        if request.correlation_id == needle and request.location:
            return request.location.rstrip("/").rsplit("/", 1)[-1]
    return needle


def journey(needle: str, recorder: Recorder, resources: Resources, consumers: dict[str, str] | None = None) -> Journey:
    """Everything the recorder and the local cloud know about one order."""
    order_id = order_of(needle.strip(), recorder)
    found = Journey(order_id)
    found.steps += _requests(found, recorder)
    invocations = list(recorder.all_invocations())
    executions = _executions(order_id, resources, invocations)
    shown = {arn for arn, _ in executions}
    found.steps += [step for _, steps in executions for step in steps]
    for record in invocations:
        # A task's invocation is shown under its state, with the execution's other states.
        of_shown = record.trigger.get("kind") == "task" and record.trigger.get("execution") in shown
        if record.mentions(order_id) and not of_shown:
            found.steps += _invocation_steps(record, order_id)
    found.steps += _events(order_id, recorder, consumers or {})
    found.steps += [
        Step(n.at, "notification", f"Notification: {n.subject or '(no subject)'}", n.message, "/events#notifications")
        for n in recorder.notifications()
        if order_id in n.message or order_id in json.dumps(n.attributes)
    ]
    found.steps.sort(key=lambda s: s.at)
    return found


def _requests(found: Journey, recorder: Recorder) -> list[Step]:
    steps = []
    for request in recorder.requests():
        if found.order_id in (request.location or "") or found.order_id in request.path:
            found.correlation_ids.append(request.correlation_id)
            status = SUCCEEDED if request.status < 400 else "failed"
            title = f"API {request.method} {request.path} → {request.status}"
            link = f"/functions/ApiFunction?q={quote(request.correlation_id)}"
            detail = f"{request.ms} ms, cid {request.correlation_id}"
            steps.append(Step(request.at, "request", title, detail, link, status))
    return steps


def _executions(
    order_id: str, resources: Resources, invocations: list[InvocationRecord]
) -> list[tuple[str, list[Step]]]:
    found = []
    tasks: dict[tuple[str, str], list[InvocationRecord]] = {}
    for record in invocations:
        if record.trigger.get("kind") == "task":
            tasks.setdefault((record.trigger.get("execution", ""), record.trigger.get("state", "")), []).append(record)
    for execution in resources.executions():
        if order_id not in execution["name"]:
            continue
        arn = execution["executionArn"]
        described, history = resources.execution(arn)
        link = f"/executions/{quote(arn, safe='')}"
        started = described["startDate"].timestamp()
        steps = [Step(started, "execution", f"Execution {described['name']} started", "", link, "neutral")]
        for name, run in runs([], history, described["status"]).items():
            if run.entered is not None:
                ran = [f"{r.function} {r.duration_ms:.0f} ms" for r in tasks.get((arn, name), [])]
                detail = "; ".join([*ran, *(f"{error}: {cause}"[:200] for error, cause in run.failures)])
                steps.append(Step(run.entered.timestamp(), "state", f"{name}: {run.label}", detail, link, run.status))
        if described.get("stopDate") is not None:
            ending = f"Execution {described['status']}"
            detail = " ".join(str(described.get(k) or "") for k in ("error", "cause")).strip()
            status = SUCCEEDED if described["status"] == "SUCCEEDED" else "failed"
            steps.append(Step(described["stopDate"].timestamp(), "execution", ending, detail, link, status))
        found.append((arn, steps))
    return found


def _invocation_steps(record: InvocationRecord, order_id: str) -> list[Step]:
    link = f"/functions/{record.function}/invocations/{record.request_id}"
    status = SUCCEEDED if record.ok else "failed"
    error = f"{record.error['errorType']}: {record.error['errorMessage']}"[:200] if record.error else ""
    steps = []
    for message in _sqs_records(record.event):
        if order_id in str(message.get("body", "")):
            queue = str(message.get("eventSourceARN", "")).rsplit(":", 1)[-1]
            sent = int(message.get("attributes", {}).get("SentTimestamp", record.started * 1000)) / 1000
            steps.append(Step(sent, "enqueue", f"Enqueued on {queue}", f"message {message.get('messageId')}", link))
    kind = {"task": "task", "source": "delivery"}.get(record.trigger.get("kind", ""), "invocation")
    cause = record.trigger.get("source", record.trigger.get("kind", "direct"))
    title = f"{record.function} invoked ({cause})"
    steps.append(Step(record.started, kind, title, f"{record.duration_ms:.0f} ms {error}".strip(), link, status))
    return steps


def _sqs_records(event_text: str) -> list[dict[str, Any]]:
    try:
        event = json.loads(event_text)
    except ValueError:
        return []
    records = event.get("Records", []) if isinstance(event, dict) else []
    return [r for r in records if isinstance(r, dict) and r.get("eventSource") == "aws:sqs"]


def _events(order_id: str, recorder: Recorder, consumers: dict[str, str]) -> list[Step]:
    """Events about the order, each with the rules it matched and who consumes them."""
    steps = []
    for event in recorder.events():
        if order_id in event.detail:
            reached = (
                consumers.get(r.rule) or ", ".join(t.rsplit(":", 1)[-1] for t in r.targets) for r in event.matched
            )
            rules = ", ".join(f"{r.rule} → {target}" for r, target in zip(event.matched, reached, strict=True))
            detail = f"on {event.bus}; matched {rules}" if rules else f"on {event.bus}; matched no rule"
            title = f"Event {event.detail_type} ({event.source})"
            steps.append(Step(event.at, "event", title, detail, f"/events#{event.event_id}"))
    return steps


def when(at: float) -> str:
    """A time of day with milliseconds."""
    return datetime.fromtimestamp(at).strftime("%H:%M:%S.%f")[:-3]
