"""The console's pages of flows: the topology, executions, events and an order's journey."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from infra.local.api_process import SOURCE as API_FUNCTION
from infra.local.console.journey import journey
from infra.local.console.render import Console, of, page, schedules_of
from infra.local.console.topology import Topology, build
from infra.local.console.workflow import CAUGHT, FAILED, StateRun, layout, runs
from infra.local.notifications import TOPIC as NOTIFICATION_TOPIC
from infra.local.runtime.cron import next_fire
from infra.local.runtime.sources.stepfunctions import STATE_MACHINE_TYPES, load_definition
from infra.local.status import depth_of

STATUSES = ("RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")
_DEFINITION_PROPERTIES = ("Definition", "DefinitionString", "DefinitionUri", "DefinitionSubstitutions")


def topology(request: Request) -> Response:
    """The template drawn, with a live figure on each resource."""
    console = of(request)
    diagram = build(console.stack)
    return page(request, "topology.html", title="Topology", diagram=diagram, counts=_counts(console, diagram))


def executions(request: Request) -> Response:
    """Every execution, newest first, optionally of one status."""
    console = of(request)
    status = request.query_params.get("status") or None
    if status is not None and status not in STATUSES:
        raise HTTPException(400, f"status is one of {', '.join(STATUSES)}")
    listed = console.resources.executions(status)
    return page(request, "executions.html", title="Executions", rows=listed, status=status, statuses=STATUSES)


def execution(request: Request) -> Response:
    """One execution: its graph coloured by its history, why it failed, each state, the history."""
    console = of(request)
    arn = unquote(request.path_params["arn"])
    try:
        described, history = console.resources.execution(arn)
    except Exception as exc:
        if type(exc).__name__ in ("ExecutionDoesNotExist", "InvalidArn"):
            raise HTTPException(404, "no such execution") from exc
        raise
    definition = _definition(console, described["stateMachineArn"])
    graph = layout(definition)
    states = runs(graph.nodes, history, described["status"])
    # The first state whose attempts all failed is why the execution went the way it did.
    entered = sorted((r for r in states.values() if r.status in (CAUGHT, FAILED) and r.failures), key=_entered)
    why = (entered[0].name, *entered[0].failures[-1]) if entered else None
    return page(
        request,
        "execution.html",
        title=described["name"],
        execution=described,
        history=history,
        graph=graph,
        states=states,
        why=why,
        invocations=[r for r in console.recorder.all_invocations() if r.trigger.get("execution") == arn],
    )


def events(request: Request) -> Response:
    """Every event put on a bus, with the rules it matched; every notification sent."""
    console = of(request)
    return page(
        request,
        "events.html",
        title="Events and notifications",
        events=list(reversed(console.recorder.events())),
        notifications=list(reversed(console.recorder.notifications())),
        consumers=_rule_consumers(console),
    )


def order_journey(request: Request) -> Response:
    """One order across every service, by order id or correlation id."""
    console = of(request)
    needle = request.query_params.get("id", "").strip() or request.path_params.get("oid", "")
    found = journey(needle, console.recorder, console.resources, _rule_consumers(console)) if needle else None
    return page(request, "journey.html", title="Order journey", needle=needle, journey=found)


def _entered(run: StateRun) -> float:
    return run.entered.timestamp() if run.entered is not None else float("inf")


def _definition(console: Console, state_machine_arn: str) -> dict[str, Any]:
    """The definition file of the template's state machine with this ARN (as written, tasks not rewritten)."""
    stack = console.stack
    for logical_id, resource in stack.of_type(*STATE_MACHINE_TYPES).items():
        if stack.arn(logical_id) == state_machine_arn:
            # Only the definition's properties: Logging and the rest name resources that have no local ARN.
            wanted = {k: v for k, v in resource.get("Properties", {}).items() if k in _DEFINITION_PROPERTIES}
            return load_definition(console.runtime.services, stack.resolve(wanted), console.template_dir)
    described = console.resources.sfn.describe_state_machine(stateMachineArn=state_machine_arn)
    parsed: dict[str, Any] = json.loads(described["definition"])
    return parsed


def _rule_consumers(console: Console) -> dict[str, str]:
    """Rule name -> the function it delivers to locally."""
    return {
        str(rule["Name"]): source.fn.logical_id
        for source in console.runtime.sources
        if isinstance(rule := getattr(source, "rule", None), dict) and hasattr(source, "fn")
    }


def _counts(console: Console, diagram: Topology) -> dict[str, str]:
    """The live figure under each node of the topology."""
    counts: dict[str, str] = {}
    started = time.monotonic()
    by_status: dict[str, int] = {}
    for execution in console.resources.executions():
        by_status[execution["status"]] = by_status.get(execution["status"], 0) + 1
    for node in diagram.nodes.values():
        counts[node.id] = _count(console, node, by_status)
    counts["_ms"] = f"{(time.monotonic() - started) * 1000:.0f}"
    return counts


def _count(console: Console, node: Any, by_status: dict[str, int]) -> str:
    recorder = console.recorder
    if node.kind == "function":
        calls = recorder.figures(node.id)
        if node.id == API_FUNCTION and not calls.invocations:  # under uvicorn: requests, not invocations
            return f"{len(recorder.requests())} requests"
        return f"{calls.invocations} invocations, {calls.errors} errors"
    if node.kind == "queue":
        # Only its own two figures: queue() would also read its DLQ, which is a box of its own.
        depth, in_flight = depth_of(console.resources.sqs, console.stack, node.id)
        return f"depth {depth}, in flight {in_flight}"
    if node.kind == "statemachine":
        return ", ".join(f"{n} {s.lower()}" for s, n in sorted(by_status.items())) or "no executions"
    if node.kind == "table":
        return f"{console.resources.item_count(node.id)} items"
    if node.kind == "bucket":
        return f"{len(console.resources.objects(node.id))} objects"
    if node.kind == "bus":
        name = "default" if node.id == "default-bus" else console.stack.name(node.id)
        return f"{sum(1 for e in recorder.events() if e.bus == name)} events"
    if node.kind == "rule":
        return f"{sum(1 for e in recorder.events() if any(r.rule == node.physical for r in e.matched))} matched"
    if node.kind == "topic" and node.id == NOTIFICATION_TOPIC:
        return f"{len(recorder.notifications())} notifications"
    if node.kind == "schedule":
        now = datetime.now(UTC)
        fires = [next_fire(s.expression, now) for s in schedules_of(console) if node.id.startswith(s.fn.logical_id)]
        return f"next {fires[0].astimezone().strftime('%d %b %H:%M')}" if fires else ""
    return ""
