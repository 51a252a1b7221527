"""Schedules (`Schedule`, `ScheduleV2`, scheduled `AWS::Events::Rule`): fired by the runtime's clock."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from typing import Any

from infra.local.runtime.cron import next_fire, validate
from infra.local.runtime.events import scheduled_event
from infra.local.runtime.functions import FunctionSpec
from infra.local.runtime.sources.asynchronous import RETRIES_EXHAUSTED, GiveUp, give_up
from infra.local.runtime.sources.base import Services, Source
from infra.local.runtime.worker import Invocation
from infra.local.template import ACCOUNT_ID

SCHEDULE_TYPES = ("Schedule", "ScheduleV2")


class ScheduleSource:
    """Invokes one function whenever its expression says, with its Input or the Scheduled Event."""

    def __init__(
        self, services: Services, fn: FunctionSpec, expression: str, resource_arn: str, source: str, raw_input: Any
    ) -> None:
        validate(expression)
        self.services = services
        self.fn = fn
        self.expression = expression
        self.resource_arn = resource_arn
        self.source = source
        self.input = raw_input
        self.description = f"{fn.logical_id}: {expression}"

    def setup(self) -> None:
        """Nothing to create: moto never fires schedules, the runtime's clock does."""

    def event(self) -> Any:
        """What the function receives when this schedule fires."""
        if self.input is not None:
            return json.loads(self.input) if isinstance(self.input, str) else self.input
        return scheduled_event(self.resource_arn, self.services.stack.region, self.source)

    def fire(self) -> Invocation:
        """Fire now, as on schedule."""
        return self.services.invoke(self.fn.logical_id, self.event())

    def run(self, stop: threading.Event) -> None:
        """Sleep until each firing time (no polling), then fire."""
        while True:
            now = datetime.now(UTC)
            due = next_fire(self.expression, now)
            if stop.wait((due - now).total_seconds()):
                return
            self.fire_async(stop)

    def fire_async(self, stop: threading.Event) -> None:
        """Fire as the scheduler does, asynchronously: failed attempts are retried, then given up."""
        event, retries = self.event(), self.fn.asynchronous.retries
        for attempt in range(1, retries + 2):
            outcome = self.services.invoke(self.fn.logical_id, event)
            if outcome.ok:
                return
            if attempt <= retries and stop.wait(self.services.retry_delay_seconds * attempt):
                return  # stopping: the next start's schedule fires it again
        give_up(self.services, self.fn, [(event, outcome)], GiveUp(RETRIES_EXHAUSTED, retries + 1))


def function_schedule_sources(services: Services, fn: FunctionSpec, name: str, props: dict[str, Any]) -> list[Source]:
    """A function's `Schedule` or `ScheduleV2` event."""
    resolved = services.stack.resolve(props)
    v2 = "ScheduleExpression" in resolved
    if resolved.get("Enabled") is False or str(resolved.get("State", "ENABLED")).upper() == "DISABLED":
        return []
    expression = str(resolved["ScheduleExpression"] if v2 else resolved["Schedule"])
    rule_name = str(resolved.get("Name") or f"{fn.logical_id}{name}")
    region = services.stack.region
    arn = (
        f"arn:aws:scheduler:{region}:{ACCOUNT_ID}:schedule/default/{rule_name}"
        if v2
        else f"arn:aws:events:{region}:{ACCOUNT_ID}:rule/{rule_name}"
    )
    return [
        ScheduleSource(services, fn, expression, arn, "aws.scheduler" if v2 else "aws.events", resolved.get("Input"))
    ]


def rule_schedule_sources(
    services: Services, functions: dict[str, FunctionSpec], logical_id: str, resource: dict[str, Any]
) -> list[Source]:
    """An `AWS::Events::Rule` with a ScheduleExpression: one source per function target."""
    props = services.stack.resolve(resource.get("Properties", {}))
    if "ScheduleExpression" not in props or str(props.get("State", "ENABLED")).upper() == "DISABLED":
        return []
    by_arn = {fn.arn: fn for fn in functions.values()}
    arn = services.stack.arn(logical_id)
    return [
        ScheduleSource(services, by_arn[t["Arn"]], str(props["ScheduleExpression"]), arn, "aws.events", t.get("Input"))
        for t in props.get("Targets", [])
        if t["Arn"] in by_arn
    ]
