"""Faster paths through work moto repeats on every request, in the process that hosts the local cloud.

Profiled under `make load` (docs/local.md, "Throughput"), the local cloud's process spent half of its time
on: walking every DynamoDB attribute value through the generic response serializer, listing its own package
directory to route each request, parsing the state machine's definition with ANTLR and building its program
(the evaluation components) at each execution start,
building a JSONPath parser (a ply table) for each path it reads, a boto3 client for each service task, a
timezone-aware datetime to compare each SQS message's times (every message of a queue, at every receive),
and the list of a response class's methods. Caches are keyed by their whole input and hold immutable (or
thread-safe) results; the attribute value path gives the serializer's own output, which a test holds equal
for every attribute type.
"""

from __future__ import annotations

import base64
import sys
import time
from functools import lru_cache
from typing import Any, cast

import jsonpath_ng
import jsonpath_ng.ext
from antlr4 import CommonTokenStream, InputStream  # type: ignore[import-untyped]
from moto import backends
from moto.core import responses as moto_responses
from moto.core.serialize import BaseJSONSerializer
from moto.sqs import models as sqs_models
from moto.stepfunctions.parser.asl.antlr.runtime.ASLLexer import ASLLexer
from moto.stepfunctions.parser.asl.antlr.runtime.ASLParser import ASLParser
from moto.stepfunctions.parser.asl.component.common.path import result_path
from moto.stepfunctions.parser.asl.component.component import Component
from moto.stepfunctions.parser.asl.component.eval_component import EvalComponent
from moto.stepfunctions.parser.asl.parse import asl_parser
from moto.stepfunctions.parser.asl.parse.preprocessor import Preprocessor
from moto.stepfunctions.parser.asl.utils import boto_client, json_path

_LIST_OF_MOTO_MODULES = backends.list_of_moto_modules
_MODULES = tuple(_LIST_OF_MOTO_MODULES())


def _moto_modules() -> tuple[str, ...]:
    # moto calls os.listdir and stats each of some 170 directories for every request it routes.
    return _MODULES


@lru_cache(maxsize=64)
def _parsed(definition: str) -> tuple[Any, Any, tuple[Any, ...]]:
    """A definition's program, its ANTLR tree, and its syntax errors (then no program)."""
    listener = cast(Any, asl_parser.SyntaxErrorListener)()
    parser: Any = ASLParser(CommonTokenStream(ASLLexer(InputStream(definition))))
    parser.removeErrorListeners()
    parser.addErrorListener(listener)
    tree = parser.state_machine()
    if listener.errors:
        return None, tree, tuple(listener.errors)
    program = Preprocessor().visit(tree)
    _draw_heap_keys(program)
    return program, tree, ()


def _parse_definition(definition: str) -> tuple[Any, Any]:
    # Executions share one program: its components are read-only once built, and each execution keeps its own
    # state (retry counts included) in its Environment. Rebuilding it took 4.8 ms at each execution start.
    program, tree, errors = _parsed(definition)
    if errors:
        raise asl_parser.ASLParserException(errors=list(errors))  # a new one each time: no traceback piles up
    return program, tree


def _draw_heap_keys(program: Any) -> None:
    """Give every component of a program its heap key now."""
    # The key under which an execution keeps a component's retry count is drawn on first use; drawn here, before
    # executions share the component, two of them can never draw two keys for it at once.
    seen: set[int] = set()
    todo: list[Any] = [program]
    while todo:
        node = todo.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, EvalComponent):
            _ = node.heap_key
        if isinstance(node, Component):
            todo += vars(node).values()
        elif isinstance(node, list | tuple):
            todo += node
        elif isinstance(node, dict):
            todo += node.values()


def _now_millis(dt: Any = None) -> float:
    # moto's unix_time_millis() builds an aware datetime (importing UTC) to get the time since the epoch.
    return time.time() * 1000.0 if dt is None else float(_UNIX_TIME_MILLIS(dt))


_UNIX_TIME_MILLIS = getattr(sqs_models, "unix_time_millis")  # noqa: B009 - not re-exported for mypy


_SCALARS = frozenset({"S", "N", "SS", "NS", "BOOL", "NULL"})
_SERIALIZE_STRUCTURE = BaseJSONSerializer._serialize_type_structure


def attribute_value(value: dict[str, Any]) -> dict[str, Any] | None:
    """An attribute value in its wire form (what the serializer would write), or None to leave it to it."""
    if len(value) != 1:
        return None
    ((kind, inner),) = value.items()
    if inner is None:
        return None  # the serializer writes {} for it
    if kind in _SCALARS:
        if kind in ("BOOL", "NULL"):
            return {kind: inner in (True, "True", "true")}
        if kind in ("S", "N"):
            return {kind: str(inner)} if isinstance(inner, str | int | float) else None
        return {kind: [str(v) for v in inner]} if isinstance(inner, list) else None
    if kind == "B" and isinstance(inner, bytes):
        return {kind: base64.b64encode(inner).decode()}
    if kind == "BS" and isinstance(inner, list) and all(isinstance(v, bytes) for v in inner):
        return {kind: [base64.b64encode(v).decode() for v in inner]}
    if kind == "M" and isinstance(inner, dict):
        members = {k: attribute_value(v) if isinstance(v, dict) else None for k, v in inner.items()}
        return None if any(v is None for v in members.values()) else {kind: members}
    if kind == "L" and isinstance(inner, list):
        items = [attribute_value(v) if isinstance(v, dict) else None for v in inner]
        return None if any(v is None for v in items) else {kind: items}
    return None


def _serialize_structure(self: Any, serialized: Any, value: Any, shape: Any, key: str) -> None:
    # An AttributeValue walked member by member through the shape model cost more than the request itself.
    if shape.name == "AttributeValue" and type(value) is dict:
        fast = attribute_value(value)
        if fast is not None:
            serialized[key] = fast
            return
    _SERIALIZE_STRUCTURE(self, serialized, value, shape, key)


_BOTO_CLIENT_FOR = boto_client.boto_client_for


@lru_cache(maxsize=64)
def _client(region: str, service: str) -> Any:
    return _BOTO_CLIENT_FOR(region, service)


def _shared_client(region: str, service: str, state_credentials: Any = None) -> Any:
    # moto's own builds the same client whatever the state's credentials (it signs with fixed test keys).
    return _client(region, service)


def _share_task_clients() -> None:
    """One boto3 client per (region, service) for moto's service tasks."""
    # Clients are thread-safe, and building one (its service model, its endpoint rules) took longer than the
    # task's request.
    setattr(boto_client, "boto_client_for", _shared_client)  # noqa: B010
    for name, module in list(sys.modules.items()):
        if name.startswith("moto.stepfunctions.") and getattr(module, "boto_client_for", None) is _BOTO_CLIENT_FOR:
            setattr(module, "boto_client_for", _shared_client)  # noqa: B010


@lru_cache(maxsize=256)
def _method_names(handler_class: type) -> frozenset[str]:
    # moto lists a response class's methods with inspect.getmembers for every request, to find the action.
    return frozenset(_METHOD_NAMES_FROM_CLASS(handler_class))


_METHOD_NAMES_FROM_CLASS = getattr(moto_responses, "method_names_from_class")  # noqa: B009 - not re-exported


def apply() -> None:
    """Install the caches (idempotent)."""
    # setattr: mypy forbids assigning to a module's function or a class's method.
    setattr(backends, "list_of_moto_modules", _moto_modules)  # noqa: B010
    setattr(asl_parser.AmazonStateLanguageParser, "parse", staticmethod(_parse_definition))  # noqa: B010
    setattr(sqs_models, "unix_time_millis", _now_millis)  # noqa: B010
    setattr(BaseJSONSerializer, "_serialize_type_structure", _serialize_structure)  # noqa: B010
    _share_task_clients()
    setattr(moto_responses, "method_names_from_class", _method_names)  # noqa: B010
    # The EventBridge input transformer imports jsonpath_ng.ext.parse at each call: it gets the cached one.
    for module in (jsonpath_ng, jsonpath_ng.ext, json_path, result_path):
        parse = getattr(module, "parse")  # noqa: B009
        if not hasattr(parse, "cache_info"):
            setattr(module, "parse", lru_cache(maxsize=1024)(parse))  # noqa: B010
