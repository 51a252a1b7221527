"""A state machine drawn from its definition, each state coloured by what one execution's history says."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

NODE_W, NODE_H, GAP_X, GAP_Y, MARGIN = 170, 40, 30, 46, 20
# What happened to a state, in the words the page uses (and the CSS classes it colours).
SUCCEEDED, FAILED, CAUGHT, RETRIED, RUNNING, NOT_REACHED = (
    "succeeded",
    "failed",
    "caught",
    "retried",
    "running",
    "not-reached",
)


@dataclass
class StateRun:
    """What one execution did in one state."""

    name: str
    status: str = NOT_REACHED
    attempts: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)  # (error, cause) of each failed attempt
    input: str | None = None
    output: str | None = None
    entered: Any = None
    exited: Any = None

    @property
    def label(self) -> str:
        """The status in words: `failed, caught` says both what happened and what the machine did."""
        if self.status == CAUGHT:
            return "failed, caught"
        if self.status == RETRIED:
            return f"succeeded after {len(self.failures)} retr{'y' if len(self.failures) == 1 else 'ies'}"
        return self.status.replace("-", " ")


@dataclass(frozen=True)
class GraphNode:
    """One state, placed."""

    name: str
    type: str
    x: int
    y: int


@dataclass(frozen=True)
class GraphEdge:
    """One transition: next, a choice, a default or a catch."""

    source: str
    target: str
    kind: str


@dataclass
class Graph:
    """The states, laid out top to bottom by their distance from StartAt."""

    nodes: dict[str, GraphNode]
    edges: list[GraphEdge]
    width: int
    height: int

    def path(self, edge: GraphEdge) -> str:
        """An SVG path between two states."""
        a, b = self.nodes[edge.source], self.nodes[edge.target]
        x1, y1 = a.x + NODE_W // 2, a.y + NODE_H
        x2, y2 = b.x + NODE_W // 2, b.y
        if b.y <= a.y:  # a loop back up: go round the right side
            x1, y1, x2, y2 = a.x + NODE_W, a.y + NODE_H // 2, b.x + NODE_W, b.y + NODE_H // 2
            return f"M{x1},{y1} C{x1 + 60},{y1} {x2 + 60},{y2} {x2},{y2}"
        middle = (y1 + y2) // 2
        return f"M{x1},{y1} C{x1},{middle} {x2},{middle} {x2},{y2}"


def transitions(state: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(target, kind) of every transition a state may take."""
    if "Next" in state:
        yield state["Next"], "next"
    for choice in state.get("Choices", []):
        if "Next" in choice:
            yield choice["Next"], "choice"
    if "Default" in state:
        yield state["Default"], "default"
    for catch in state.get("Catch", []):
        yield catch["Next"], "catch"


def layout(definition: dict[str, Any]) -> Graph:
    """Rows by breadth-first distance from StartAt; states no path reaches go last."""
    states: dict[str, Any] = definition.get("States", {})
    depth: dict[str, int] = {}
    start = str(definition.get("StartAt", ""))
    queue = [start] if start in states else []
    if queue:
        depth[start] = 0
    while queue:
        name = queue.pop(0)
        for target, _ in transitions(states[name]):
            if target in states and target not in depth:
                depth[target] = depth[name] + 1
                queue.append(target)
    last = max(depth.values(), default=-1) + 1
    rows: dict[int, list[str]] = {}
    for name in states:
        rows.setdefault(depth.get(name, last), []).append(name)
    widest = max((len(r) for r in rows.values()), default=1)
    width = MARGIN * 2 + widest * (NODE_W + GAP_X)
    nodes: dict[str, GraphNode] = {}
    for row, names in sorted(rows.items()):
        offset = (width - len(names) * (NODE_W + GAP_X)) // 2
        for column, name in enumerate(names):
            x = offset + column * (NODE_W + GAP_X) + GAP_X // 2
            nodes[name] = GraphNode(name, str(states[name].get("Type", "")), x, MARGIN + row * (NODE_H + GAP_Y))
    edges = [
        GraphEdge(name, target, kind)
        for name, state in states.items()
        for target, kind in transitions(state)
        if target in states
    ]
    height = MARGIN * 2 + (max(rows, default=0) + 1) * (NODE_H + GAP_Y)
    return Graph(nodes, list(dict.fromkeys(edges)), width + 80, height)


def runs(states: Iterable[str], history: list[dict[str, Any]], execution_status: str) -> dict[str, StateRun]:
    """What each state did, from GetExecutionHistory's events (in order)."""
    result = {name: StateRun(name) for name in states}
    current: StateRun | None = None
    for event in history:
        kind = str(event.get("type", ""))
        if kind.endswith("StateEntered"):
            details = event.get("stateEnteredEventDetails", {})
            current = result.setdefault(details.get("name", ""), StateRun(details.get("name", "")))
            current.status, current.input, current.entered = RUNNING, details.get("input"), event.get("timestamp")
            current.attempts = 0 if kind.startswith("Task") else 1
        elif current is not None:
            _apply(current, kind, event)
    for run in result.values():
        _settle(run, execution_status)
    return result


def _apply(run: StateRun, kind: str, event: dict[str, Any]) -> None:
    if kind == "TaskScheduled":
        run.attempts += 1
    elif kind in ("TaskFailed", "TaskTimedOut", "LambdaFunctionFailed", "LambdaFunctionTimedOut"):
        details: dict[str, Any] = next((v for k, v in event.items() if k.endswith("EventDetails")), {})
        run.failures.append((str(details.get("error", kind)), str(details.get("cause", ""))))
    elif kind.endswith("StateExited"):
        details = event.get("stateExitedEventDetails", {})
        run.output, run.exited = details.get("output"), event.get("timestamp")
        run.status = SUCCEEDED
    elif kind == "FailStateEntered":
        run.status = FAILED


def _settle(run: StateRun, execution_status: str) -> None:
    if run.status == RUNNING and execution_status != "RUNNING":
        run.status = FAILED  # entered and never left: the execution ended here
    if run.status == SUCCEEDED and run.failures:
        # Exited after a failure: the last attempt succeeded (retried), or a Catch took it elsewhere (caught).
        run.status = RETRIED if len(run.failures) < run.attempts else CAUGHT
