"""Helpers for rules that hold for every resource of a type in infra/template.yaml."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from infra.local.template import Stack, load_template


def template() -> dict[str, Any]:
    """The SAM template as plain data (intrinsics in their long form)."""
    return load_template()


def of_type(tpl: dict[str, Any], *types: str) -> dict[str, dict[str, Any]]:
    """Resources of the given types, by logical id."""
    return {k: v for k, v in tpl["Resources"].items() if v["Type"] in types}


def props(resource: dict[str, Any]) -> dict[str, Any]:
    """A resource's Properties."""
    return dict(resource.get("Properties", {}))


def stack(stage: str = "dev") -> Stack:
    """The template bound to a stage, to evaluate conditions and names."""
    return Stack(load_template(), "http://127.0.0.1", overrides={"Stage": stage})


def walk(value: Any, key: str = "") -> Iterator[tuple[str, Any]]:
    """Every (key, value) pair nested anywhere in value."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield k, v
            yield from walk(v, k)
    elif isinstance(value, list):
        for v in value:
            yield from walk(v, key)


def refs(value: Any) -> set[str]:
    """Logical ids that value references with Ref, GetAtt or ${...} in Sub."""
    found: set[str] = set()
    for key, inner in walk({"": value}):
        if key == "Ref" and isinstance(inner, str):
            found.add(inner)
        elif key == "Fn::GetAtt":
            found.add(inner[0] if isinstance(inner, list) else str(inner).split(".")[0])
        elif key == "Fn::Sub":
            text = inner if isinstance(inner, str) else inner[0]
            found.update(part.split("}")[0].split(".")[0] for part in text.split("${")[1:])
    return found


def alarms_on(tpl: dict[str, Any], namespace: str, metric: str, logical_id: str) -> list[dict[str, Any]]:
    """Alarms on a metric whose dimensions (or metric-math inputs) reference the resource."""
    found = []
    for resource in of_type(tpl, "AWS::CloudWatch::Alarm").values():
        p = props(resource)
        stats = [p] + [m["MetricStat"]["Metric"] for m in p.get("Metrics", []) if "MetricStat" in m]
        for stat in stats:
            same_metric = stat.get("Namespace") == namespace and stat.get("MetricName") == metric
            if same_metric and logical_id in refs(stat.get("Dimensions", [])):
                found.append(p)
                break
    return found
