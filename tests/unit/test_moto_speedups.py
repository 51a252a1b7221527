"""The local cloud's faster paths through moto give moto's own answers."""

from __future__ import annotations

import json
from typing import Any

import pytest
from moto.core.serialize import JSONSerializer, XFormedAttributePicker
from moto.core.utils import get_service_model
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.models.utilities import dynamo_to_dict

from infra.local import moto_speedups

EVERY_TYPE: dict[str, Any] = {
    "id": {"S": "order-1"},
    "empty": {"S": ""},
    "unicode": {"S": "caf\u00e9 \u2603 \U0001f600"},
    "total": {"N": "1999"},
    "ratio": {"N": "-0.125e3"},
    "flag": {"BOOL": True},
    "off": {"BOOL": False},
    "nothing": {"NULL": True},
    "blob": {"B": "AAEC/w=="},
    "blobs": {"BS": ["AAE=", "/w=="]},
    "tags": {"SS": ["a", "b"]},
    "counts": {"NS": ["1", "2.5"]},
    "lines": {"L": [{"M": {"productId": {"S": "mug"}, "quantity": {"N": "2"}}}, {"L": []}, {"NULL": True}]},
    "nested": {"M": {"deep": {"M": {"deeper": {"L": [{"B": "AQ=="}, {"SS": ["x"]}]}}}, "empty": {"M": {}}}},
}


def serialized(operation: str, result: dict[str, Any], structure: Any) -> Any:
    """The JSON body moto writes for an operation's result, with the given structure serializer."""
    serializer_class = type("Probe", (JSONSerializer,), {"_serialize_type_structure": structure})
    model = get_service_model("dynamodb").operation_model(operation)
    serializer = serializer_class(operation_model=model, pretty_print=False, value_picker=XFormedAttributePicker())
    return json.loads(serializer.serialize(result)["body"])


def as_stored(item: dict[str, Any]) -> dict[str, Any]:
    """The item as moto's handlers hand it to the serializer (DynamoType values, converted)."""
    converted: dict[str, Any] = dynamo_to_dict({k: DynamoType(v) for k, v in item.items()})
    return converted


@pytest.mark.parametrize(
    ("operation", "result"),
    [
        ("GetItem", {"Item": as_stored(EVERY_TYPE)}),
        ("GetItem", {}),
        ("Scan", {"Items": [as_stored(EVERY_TYPE), as_stored({"id": {"S": "2"}})], "Count": 2, "ScannedCount": 2}),
        ("UpdateItem", {"Attributes": as_stored(EVERY_TYPE)}),
        ("BatchGetItem", {"Responses": {"t": [as_stored(EVERY_TYPE)]}, "UnprocessedKeys": {}}),
        ("Query", {"Items": [], "Count": 0, "ScannedCount": 0, "LastEvaluatedKey": as_stored({"id": {"S": "k"}})}),
    ],
)
def test_attribute_values_are_written_as_moto_writes_them(operation: str, result: dict[str, Any]) -> None:
    ours = serialized(operation, result, moto_speedups._serialize_structure)
    assert ours == serialized(operation, result, moto_speedups._SERIALIZE_STRUCTURE)


@pytest.mark.parametrize(
    "value", [{"S": None}, {"BOOL": None}, {"S": "a", "N": "1"}, {}, {"B": "not-bytes"}, {"X": "?"}, {"M": {"k": 1}}]
)
def test_what_the_fast_path_does_not_know_is_left_to_the_serializer(value: dict[str, Any]) -> None:
    assert moto_speedups.attribute_value(value) is None


def test_the_cached_answers_are_the_ones_moto_computes() -> None:
    from moto import backends
    from moto.core.utils import unix_time_millis

    moto_speedups.apply()
    assert tuple(backends.list_of_moto_modules()) == tuple(moto_speedups._LIST_OF_MOTO_MODULES())
    assert "dynamodb" in moto_speedups._MODULES
    assert abs(moto_speedups._now_millis() - unix_time_millis()) < 1000
    from moto.dynamodb.responses import DynamoHandler

    names = moto_speedups._method_names(DynamoHandler)
    assert names == set(moto_speedups._METHOD_NAMES_FROM_CLASS(DynamoHandler))
    assert {"get_item", "transact_write_items"} <= names


def test_executions_share_one_program_whose_heap_keys_are_drawn_before_sharing() -> None:
    from moto.stepfunctions.parser.asl.component.eval_component import EvalComponent
    from moto.stepfunctions.parser.asl.parse.asl_parser import ASLParserException

    retried = {"Type": "Parallel", "Branches": [{"StartAt": "F", "States": {"F": {"Type": "Fail"}}}], "End": True}
    retried["Retry"] = [{"ErrorEquals": ["States.ALL"], "MaxAttempts": 2}]
    definition = json.dumps({"StartAt": "P", "States": {"P": retried}})
    first, tree = moto_speedups._parse_definition(definition)
    second, same_tree = moto_speedups._parse_definition(definition)
    assert first is second
    assert tree is same_tree
    components = list(eval_components(first))
    assert len(components) > 5
    assert all(c._EvalComponent__heap_key is not None for c in components)
    assert isinstance(components[0], EvalComponent)
    failures = []
    for _ in range(2):  # a cached failure fails again, with an exception of its own
        with pytest.raises(ASLParserException) as failed:
            moto_speedups._parse_definition('{"StartAt": ')
        failures.append(failed.value)
    assert failures[0] is not failures[1]
    assert failures[0].errors == failures[1].errors


def eval_components(node: Any, seen: set[int] | None = None) -> Any:
    """Every evaluation component reachable from a program."""
    from moto.stepfunctions.parser.asl.component.component import Component
    from moto.stepfunctions.parser.asl.component.eval_component import EvalComponent

    seen = set() if seen is None else seen
    if id(node) in seen:
        return
    seen.add(id(node))
    if isinstance(node, EvalComponent):
        yield node
    children = vars(node).values() if isinstance(node, Component) else node if isinstance(node, list | tuple) else ()
    children = node.values() if isinstance(node, dict) else children
    for child in children:
        yield from eval_components(child, seen)
