"""The template as a diagram: its resources as nodes, event flows as edges, read from the template alone."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from infra.local.runtime.functions import FUNCTION_TYPES
from infra.local.runtime.sources.stepfunctions import STATE_MACHINE_TYPES
from infra.local.template import Stack

# The kinds drawn, by resource type; anything else (alarms, policies, keys, log groups) is not a flow.
KINDS = {
    "AWS::Serverless::HttpApi": "api",
    "AWS::Serverless::Api": "api",
    "AWS::SQS::Queue": "queue",
    "AWS::SNS::Topic": "topic",
    "AWS::Events::EventBus": "bus",
    "AWS::DynamoDB::Table": "table",
    "AWS::S3::Bucket": "bucket",
    **dict.fromkeys(FUNCTION_TYPES, "function"),
    **dict.fromkeys(STATE_MACHINE_TYPES, "statemachine"),
}
# Left to right: where events come from, what carries them, who runs, what is kept.
COLUMNS = ("entry", "carrier", "function", "statemachine", "task", "store")
NODE_W, NODE_H, GAP_X, GAP_Y, MARGIN = 200, 46, 70, 14, 20


@dataclass
class Node:
    """One box of the diagram."""

    id: str
    kind: str
    label: str
    column: str
    physical: str = ""  # the name in the local cloud, where the console needs it (a rule's)
    x: int = 0
    y: int = 0


@dataclass(frozen=True)
class Edge:
    """One flow: source to target, with what it is."""

    source: str
    target: str
    label: str


@dataclass
class Topology:
    """Nodes and edges, laid out."""

    nodes: dict[str, Node] = field(default_factory=dict)
    edges: list[Edge] = field(default_factory=list)
    width: int = 0
    height: int = 0

    def of_kind(self, kind: str) -> list[Node]:
        """The nodes of one kind."""
        return [n for n in self.nodes.values() if n.kind == kind]

    def path(self, edge: Edge) -> str:
        """An SVG path from the source's right side to the target's left side."""
        a, b = self.nodes[edge.source], self.nodes[edge.target]
        x1, y1 = a.x + NODE_W, a.y + NODE_H // 2
        x2, y2 = b.x, b.y + NODE_H // 2
        if b.x <= a.x:  # backwards: leave from the bottom, arrive at the bottom
            x1, y1, x2, y2 = a.x + NODE_W // 2, a.y + NODE_H, b.x + NODE_W // 2, b.y + NODE_H
            return f"M{x1},{y1} C{x1},{y1 + 40} {x2},{y2 + 40} {x2},{y2}"
        bend = max(30, (x2 - x1) // 2)
        return f"M{x1},{y1} C{x1 + bend},{y1} {x2 - bend},{y2} {x2},{y2}"


def refs(value: Any) -> Iterator[str]:
    """Every logical id a template value refers to (Ref, GetAtt, Sub)."""
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "Ref" and isinstance(inner, str):
                yield inner.split(".")[0]  # `AuthorizerFunction.Alias` is the function too
            elif key == "Fn::GetAtt":
                target = inner[0] if isinstance(inner, list) else str(inner).split(".")[0]
                yield str(target)
            elif key == "Fn::Sub":
                text = inner[0] if isinstance(inner, list) else inner
                yield from (part.split("}")[0].split(".")[0] for part in str(text).split("${")[1:])
                yield from refs(inner[1] if isinstance(inner, list) else {})
            else:
                yield from refs(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from refs(inner)


def build(stack: Stack) -> Topology:
    """Read the diagram from the template."""
    resources = stack.resources
    topology = Topology()
    for logical_id, resource in resources.items():
        kind = KINDS.get(resource["Type"])
        if kind is not None:
            topology.nodes[logical_id] = Node(logical_id, kind, logical_id, _column(kind))
    topology.edges = list(dict.fromkeys(_edges(stack, topology)))
    _place_tasks_and_dlqs(topology)
    _layout(topology)
    return topology


def _column(kind: str) -> str:
    return {
        "api": "entry",
        "bucket": "entry",
        "schedule": "entry",
        "queue": "carrier",
        "bus": "carrier",
        "rule": "carrier",
        "topic": "store",
        "table": "store",
        "statemachine": "statemachine",
    }.get(kind, "function")


def _edges(stack: Stack, topology: Topology) -> Iterator[Edge]:
    nodes = topology.nodes
    for logical_id, resource in stack.resources.items():
        props = resource.get("Properties", {})
        kind = KINDS.get(resource["Type"])
        if kind == "function":
            yield from _function_edges(stack, topology, logical_id, props)
        elif kind == "queue":
            target = props.get("RedrivePolicy", {}).get("deadLetterTargetArn")
            yield from (Edge(logical_id, t, "dead letters") for t in refs(target) if t in nodes)
        elif kind == "statemachine":
            for target in refs(props.get("DefinitionSubstitutions", {})):
                if nodes.get(target) and nodes[target].kind == "function":
                    yield Edge(logical_id, target, "task")
        elif kind == "api":
            for target in refs(props.get("Auth", {})):
                if nodes.get(target) and nodes[target].kind == "function":
                    yield Edge(logical_id, target, "authorizes")


def _function_edges(stack: Stack, topology: Topology, fn: str, props: dict[str, Any]) -> Iterator[Edge]:
    nodes = topology.nodes
    for name, event in props.get("Events", {}).items():
        kind, event_props = event.get("Type", ""), event.get("Properties", {})
        if kind in ("HttpApi", "Api"):
            api = next(iter(refs(event_props.get("ApiId", {}))), None) or next(iter(topology.of_kind("api")), None)
            api_id = api if isinstance(api, str) else (api.id if api else None)
            if api_id in nodes:
                yield Edge(api_id, fn, "HTTP")
        elif kind in ("SQS", "S3"):
            key = "Queue" if kind == "SQS" else "Bucket"
            yield from (Edge(s, fn, kind) for s in refs(event_props.get(key)) if s in nodes)
        elif kind in ("Schedule", "ScheduleV2"):
            node_id = f"{fn}.{name}"
            expression = event_props.get("Schedule") or event_props.get("ScheduleExpression")
            nodes[node_id] = Node(node_id, "schedule", f"{name}: {expression}", "entry")
            yield Edge(node_id, fn, "schedule")
        elif kind in ("EventBridgeRule", "CloudWatchEvent"):
            rule_name = str(stack.resolve(event_props.get("RuleName") or f"{fn}{name}"))
            yield from _rule_edges(topology, fn, name, event_props, rule_name)
    for target in refs(props.get("Environment", {})):
        node = nodes.get(target)
        if node is not None and node.kind in ("queue", "topic", "bus", "statemachine"):
            yield Edge(fn, target, "sends")
    destination = props.get("EventInvokeConfig", {}).get("DestinationConfig", {}).get("OnFailure", {})
    yield from (Edge(fn, t, "on failure") for t in refs(destination) if t in nodes)


def _rule_edges(topology: Topology, fn: str, name: str, props: dict[str, Any], rule_name: str) -> Iterator[Edge]:
    bus = next(iter(refs(props.get("EventBusName", {}))), None)
    node_id = f"{fn}.{name}"
    pattern = props.get("Pattern", {})
    types = ", ".join(str(t) for t in pattern.get("detail-type", [])) or ", ".join(pattern.get("source", []))
    topology.nodes[node_id] = Node(node_id, "rule", f"rule {name}: {types}"[:60], "carrier", rule_name)
    if bus in topology.nodes:
        yield Edge(bus, node_id, "matches")
    else:
        topology.nodes.setdefault("default-bus", Node("default-bus", "bus", "default bus", "carrier"))
        yield Edge("default-bus", node_id, "matches")
    yield Edge(node_id, fn, "rule")


def _place_tasks_and_dlqs(topology: Topology) -> None:
    # A function run only by the state machine sits right of it; a queue that only receives dead letters is kept.
    triggered = {e.target for e in topology.edges if e.label not in ("task",)}
    for edge in topology.edges:
        if edge.label == "task" and edge.target not in triggered:
            topology.nodes[edge.target].column = "task"
    for edge in topology.edges:
        if edge.label in ("dead letters", "on failure"):
            target = topology.nodes[edge.target]
            if not any(e.source == target.id for e in topology.edges):
                target.column = "store"


def _layout(topology: Topology) -> None:
    """Columns left to right; within a column, each node near the average row of its neighbours on the left."""
    order = {kind: i for i, kind in enumerate(("api", "schedule", "bucket", "bus", "rule", "queue", "topic", "table"))}
    neighbours: dict[str, set[str]] = {node: set() for node in topology.nodes}
    for edge in topology.edges:
        neighbours[edge.source].add(edge.target)
        neighbours[edge.target].add(edge.source)
    placed: dict[str, int] = {}
    tallest = 0
    for index, column in enumerate(COLUMNS):
        members = sorted(
            (n for n in topology.nodes.values() if n.column == column), key=lambda n: (order.get(n.kind, 9), n.id)
        )
        if index > 1:  # the sources' columns keep their kind order; the rest follow them (fewer crossings)
            members.sort(key=lambda n: _barycentre(neighbours[n.id], placed))
        for row, node in enumerate(members):
            node.x, node.y = MARGIN + index * (NODE_W + GAP_X), MARGIN + row * (NODE_H + GAP_Y)
            placed[node.id] = row
        tallest = max(tallest, len(members))
    topology.width = MARGIN * 2 + len(COLUMNS) * (NODE_W + GAP_X) - GAP_X
    topology.height = MARGIN * 2 + tallest * (NODE_H + GAP_Y) + 40


def _barycentre(neighbours: set[str], placed: dict[str, int]) -> float:
    rows = [placed[n] for n in neighbours if n in placed]
    return sum(rows) / len(rows) if rows else float("inf")
