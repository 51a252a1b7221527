"""EventBridge rules with a Lambda target: the rule targets a runtime-owned queue locally."""

from __future__ import annotations

import json
from typing import Any

from infra.local.runtime.events import eventbridge_event
from infra.local.runtime.functions import FunctionSpec
from infra.local.runtime.sources.base import AsyncQueueSource, Services, Source

_TARGET_INPUT_KEYS = ("Input", "InputPath", "InputTransformer")


def bus_name(value: Any) -> str:
    """A bus name from a name or an ARN; `default` when unset."""
    text = str(value or "default")
    return text.split("event-bus/", 1)[1] if text.startswith("arn:") else text


class RuleSource(AsyncQueueSource):
    """Creates one rule on its bus and delivers what it matches to one function."""

    def __init__(
        self,
        services: Services,
        fn: FunctionSpec,
        rule: dict[str, Any],
        target: dict[str, Any],
        other_targets: list[dict[str, Any]] | None = None,
    ) -> None:
        self.services = services
        self.fn = fn
        self.rule = rule
        self.target = target
        self.other_targets = other_targets or []
        self.queue_name = services.runtime_name("events", rule["Name"])
        self.queue_url = services.queue_url(self.queue_name)
        self.description = f"{fn.logical_id}: EventBridge rule {rule['Name']} on {rule['EventBusName']}"
        self.sqs = services.client("sqs")

    def setup(self) -> None:
        """The queue, then the rule with the template's pattern, then the target."""
        queue_arn = self.create_queue()
        events = self.services.client("events")
        events.put_rule(**self.rule)
        target = {"Id": self.target.get("Id", self.fn.logical_id), "Arn": queue_arn}
        target.update({k: self.target[k] for k in _TARGET_INPUT_KEYS if k in self.target})
        events.put_targets(
            Rule=self.rule["Name"], EventBusName=self.rule["EventBusName"], Targets=[target, *self.other_targets]
        )

    def events_of(self, message: dict[str, Any]) -> list[Any]:
        """One invocation with the event in its EventBridge envelope."""
        return [self.event_of(message["Body"])]

    def event_of(self, body: str) -> Any:
        """The standard envelope, or the target's own input when the template transforms it."""
        try:
            raw = json.loads(body)
        except ValueError:
            return body
        if any(k in self.target for k in _TARGET_INPUT_KEYS) or not isinstance(raw, dict):
            return raw
        return eventbridge_event(raw, self.services.stack.region)


def function_rule_sources(services: Services, fn: FunctionSpec, name: str, props: dict[str, Any]) -> list[Source]:
    """A function's `EventBridgeRule` (or `CloudWatchEvent`) event."""
    resolved = services.stack.resolve(props)
    if str(resolved.get("State", "ENABLED")).upper() == "DISABLED" or resolved.get("Enabled") is False:
        return []
    rule = {
        "Name": str(resolved.get("RuleName") or f"{fn.logical_id}{name}"),
        "EventPattern": json.dumps(resolved["Pattern"]),
        "EventBusName": bus_name(resolved.get("EventBusName")),
        "State": "ENABLED",
    }
    target = {**resolved.get("Target", {}), **{k: resolved[k] for k in _TARGET_INPUT_KEYS if k in resolved}}
    return [RuleSource(services, fn, rule, target)]


def rule_resource_sources(
    services: Services, functions: dict[str, FunctionSpec], logical_id: str, resource: dict[str, Any]
) -> list[Source]:
    """An `AWS::Events::Rule` with an event pattern: one source per function target."""
    from infra.local.runtime.sources.schedule import rule_schedule_sources

    props = services.stack.resolve(resource.get("Properties", {}))
    if "EventPattern" not in props:
        return rule_schedule_sources(services, functions, logical_id, resource)
    if str(props.get("State", "ENABLED")).upper() == "DISABLED":
        return []
    by_arn = {fn.arn: fn for fn in functions.values()}
    targets = props.get("Targets", [])
    others = [t for t in targets if t["Arn"] not in by_arn]
    sources: list[Source] = []
    for index, target in enumerate(t for t in targets if t["Arn"] in by_arn):
        name = services.stack.name(logical_id)
        rule = {
            "Name": name if index == 0 else f"{name}-{index}",
            "EventPattern": json.dumps(props["EventPattern"]),
            "EventBusName": bus_name(props.get("EventBusName")),
            "State": "ENABLED",
        }
        sources.append(RuleSource(services, by_arn[target["Arn"]], rule, target, others if index == 0 else []))
    return sources
