"""Event sources of the local runtime, by SAM event type and by resource type.

To wire a new kind, write a module with a factory that returns
`Source` objects (setup() creates local resources, run(stop) delivers events) and add it here.
"""

from __future__ import annotations

from infra.local.runtime.sources.base import EventFactory, ResourceFactory, Services, Source
from infra.local.runtime.sources.eventbridge import function_rule_sources, rule_resource_sources
from infra.local.runtime.sources.s3 import s3_sources
from infra.local.runtime.sources.schedule import ScheduleSource, function_schedule_sources
from infra.local.runtime.sources.sqs import sqs_sources

EVENT_KINDS: dict[str, EventFactory] = {
    "SQS": sqs_sources,
    "EventBridgeRule": function_rule_sources,
    "CloudWatchEvent": function_rule_sources,
    "Schedule": function_schedule_sources,
    "ScheduleV2": function_schedule_sources,
    "S3": s3_sources,
}
RESOURCE_KINDS: dict[str, ResourceFactory] = {
    "AWS::Events::Rule": rule_resource_sources,
}
# Served elsewhere: HTTP events by the API process (uvicorn) of `make run`.
SERVED_ELSEWHERE = frozenset({"HttpApi", "Api"})

__all__ = ["EVENT_KINDS", "RESOURCE_KINDS", "SERVED_ELSEWHERE", "ScheduleSource", "Services", "Source"]
