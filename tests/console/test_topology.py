"""The topology is read from the template: every function, and the flows between resources."""

from __future__ import annotations

from infra.local.console.topology import build
from infra.local.runtime.functions import FUNCTION_TYPES
from infra.local.template import Stack, load_template


def test_every_function_queue_table_and_the_state_machine_is_a_node() -> None:
    stack = Stack(load_template(), "http://127.0.0.1:1")
    topology = build(stack)

    for kind, types in [
        ("function", FUNCTION_TYPES),
        ("queue", ("AWS::SQS::Queue",)),
        ("table", ("AWS::DynamoDB::Table",)),
    ]:
        assert {n.id for n in topology.of_kind(kind)} == set(stack.of_type(*types)), kind
    assert [n.id for n in topology.of_kind("statemachine")] == ["OrderWorkflow"]
    boxes = [(n.x, n.y) for n in topology.nodes.values()]
    assert len(set(boxes)) == len(boxes)


def test_flows_follow_event_sources_dead_letters_tasks_and_what_functions_send() -> None:
    topology = build(Stack(load_template(), "http://127.0.0.1:1"))
    flows = {(e.source, e.target, e.label) for e in topology.edges}

    assert ("HttpApi", "ApiFunction", "HTTP") in flows
    assert ("HttpApi", "AuthorizerFunction", "authorizes") in flows
    assert ("ApiFunction", "OrderQueue", "sends") in flows
    assert ("OrderQueue", "ProcessOrderFunction", "SQS") in flows
    assert ("OrderQueue", "OrderDeadLetterQueue", "dead letters") in flows
    assert ("ProcessOrderFunction", "OrderWorkflow", "sends") in flows
    assert ("OrderWorkflow", "CheckInventoryFunction", "task") in flows
    assert ("OrderEventBus", "OrderEventsFunction.OrderProcessed", "matches") in flows
    assert ("OrderEventsFunction.OrderProcessed", "OrderEventsFunction", "rule") in flows
    assert ("ImportsBucket", "CatalogImportFunction", "S3") in flows
    assert ("CleanupFunction.Daily", "CleanupFunction", "schedule") in flows
    assert ("OrderEventsFunction", "EventsDeadLetterQueue", "on failure") in flows
    assert all(e.source in topology.nodes and e.target in topology.nodes for e in topology.edges)
