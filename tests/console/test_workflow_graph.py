"""The execution graph: every state of the definition placed, and coloured by what the history says."""

from __future__ import annotations

import json
from typing import Any

from infra.local.console.workflow import layout, runs
from infra.local.paths import PROJECT_ROOT

SAGA = json.loads((PROJECT_ROOT / "infra/statemachine/order_workflow.asl.json").read_text())


def entered(name: str, kind: str = "Task") -> dict[str, Any]:
    return {"type": f"{kind}StateEntered", "stateEnteredEventDetails": {"name": name, "input": "{}"}}


def exited(name: str, kind: str = "Task") -> dict[str, Any]:
    return {"type": f"{kind}StateExited", "stateExitedEventDetails": {"name": name, "output": '{"ok": 1}'}}


def failed(error: str, cause: str = "") -> dict[str, Any]:
    return {"type": "TaskFailed", "taskFailedEventDetails": {"error": error, "cause": cause}}


SCHEDULED = {"type": "TaskScheduled"}


def test_every_state_of_the_saga_is_placed_once_and_every_transition_drawn() -> None:
    graph = layout(SAGA)

    assert set(graph.nodes) == set(SAGA["States"])
    assert graph.nodes["ValidateOrder"].y < graph.nodes["CheckInventory"].y < graph.nodes["ProcessPayment"].y
    positions = {(n.x, n.y) for n in graph.nodes.values()}
    assert len(positions) == len(graph.nodes)  # no two states on top of each other
    kinds = {(e.source, e.target): e.kind for e in graph.edges}
    assert kinds[("ValidateOrder", "CheckInventory")] == "next"
    assert kinds[("CheckInventory", "MarkOrderFailed")] == "catch"
    assert any(kind == "choice" for (source, _), kind in kinds.items() if source == "Decided")
    assert all(n.x + 170 <= graph.width and n.y + 40 <= graph.height for n in graph.nodes.values())


def test_out_of_stock_history_shows_the_caught_failure_and_the_failure_path() -> None:
    history = [
        entered("ValidateOrder"), SCHEDULED, exited("ValidateOrder"),
        entered("CheckInventory"), SCHEDULED, failed("InsufficientInventory", "no stock"), exited("CheckInventory"),
        entered("MarkOrderFailed"), SCHEDULED, exited("MarkOrderFailed"),
        entered("Decided", "Choice"), exited("Decided", "Choice"),
        entered("OrderFailed", "Fail"), {"type": "ExecutionFailed"},
    ]  # fmt: skip

    states = runs(SAGA["States"], history, "FAILED")

    assert states["CheckInventory"].status == "caught"
    assert states["CheckInventory"].label == "failed, caught"
    assert states["CheckInventory"].failures == [("InsufficientInventory", "no stock")]
    assert [states[s].status for s in ("ValidateOrder", "MarkOrderFailed", "Decided")] == ["succeeded"] * 3
    assert states["OrderFailed"].status == "failed"
    assert states["ProcessPayment"].status == "not-reached"


def test_a_retried_task_that_then_succeeds_is_retried_not_failed() -> None:
    history = [
        entered("ProcessPayment"), SCHEDULED, failed("ServiceUnavailable"), SCHEDULED, exited("ProcessPayment"),
    ]  # fmt: skip
    run = runs(["ProcessPayment"], history, "SUCCEEDED")["ProcessPayment"]
    assert (run.status, run.attempts, run.label) == ("retried", 2, "succeeded after 1 retry")


def test_a_state_still_running_or_where_the_execution_died() -> None:
    history = [entered("ValidateOrder"), SCHEDULED]
    assert runs(["ValidateOrder"], history, "RUNNING")["ValidateOrder"].status == "running"
    assert runs(["ValidateOrder"], [*history, failed("Boom")], "FAILED")["ValidateOrder"].status == "failed"
