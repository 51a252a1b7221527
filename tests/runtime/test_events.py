"""EventBridge rules and schedules: pattern filtering, the envelope, the Scheduled Event."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from infra.local.provision import client
from infra.local.runtime import Invocation, LocalRuntime
from infra.local.runtime.cron import next_fire, validate
from infra.local.runtime.events import ENVELOPE_KEYS
from infra.local.template import ACCOUNT_ID, Stack
from tests.runtime.conftest import no_more_results, results


def test_rules_deliver_only_matching_events_in_the_standard_envelope(rt: LocalRuntime, rt_stack: Stack) -> None:
    bus = rt_stack.name("Bus")
    detail = {"orderId": "o-1", "total": 42}
    entries = [
        {"EventBusName": bus, "Source": "test.other", "DetailType": "OrderPlaced", "Detail": "{}"},
        {"EventBusName": bus, "Source": "test.orders", "DetailType": "OrderShipped", "Detail": "{}"},
        {"EventBusName": bus, "Source": "test.orders", "DetailType": "OrderPlaced", "Detail": json.dumps(detail)},
        {"Source": "test.audit", "DetailType": "Anything", "Detail": "{}"},  # default bus, AWS::Events::Rule
    ]
    client(rt_stack, "events").put_events(Entries=entries)
    got = {r["kind"]: r["event"] for r in results(rt_stack, 2)}
    no_more_results(rt_stack)

    placed = got[rt_stack.name("ProbeEvents")]
    assert tuple(placed) == ENVELOPE_KEYS
    assert placed["source"] == "test.orders"
    assert placed["detail-type"] == "OrderPlaced"
    assert placed["detail"] == detail
    assert placed["account"] == ACCOUNT_ID
    assert placed["region"] == rt_stack.region
    assert placed["version"] == "0"
    assert placed["resources"] == []
    datetime.strptime(placed["time"], "%Y-%m-%dT%H:%M:%SZ")
    assert got[rt_stack.name("ProbeRule")]["source"] == "test.audit"


def test_schedules_fire_on_demand_with_the_scheduled_event(rt: LocalRuntime, rt_stack: Stack) -> None:
    fired = rt.fire("ProbeSchedule")
    (nightly, hourly) = rt.schedules("ProbeSchedule")
    hourly.fire()
    reports = [r["event"] for r in results(rt_stack, 2)]

    assert fired.ok
    event = next(e for e in reports if "detail-type" in e)
    assert event["detail-type"] == "Scheduled Event"
    assert event["source"] == "aws.events"
    assert event["resources"] == [f"arn:aws:events:{rt_stack.region}:{ACCOUNT_ID}:rule/ProbeScheduleNightly"]
    assert event["detail"] == {}
    assert tuple(event) == ENVELOPE_KEYS
    assert {"kind": "hourly"} in reports  # a ScheduleV2 Input is delivered as is
    assert nightly.expression == "cron(0 3 * * ? *)"
    with pytest.raises(KeyError):
        rt.fire("ProbeEcho")


def test_a_schedule_fires_on_time_while_running(rt: LocalRuntime, monkeypatch: pytest.MonkeyPatch) -> None:
    import infra.local.runtime.sources.schedule as schedule

    monkeypatch.setattr(schedule, "next_fire", lambda expression, now: now + timedelta(seconds=0.2))
    source = rt.schedules("ProbeSchedule")[0]
    fired: list[Any] = []

    def invoke(fn: str, event: Any) -> Invocation:
        fired.append((fn, event))
        return Invocation("x")

    monkeypatch.setattr(source.services, "invoke", invoke)
    stop = threading.Event()
    thread = threading.Thread(target=source.run, args=(stop,))
    started = time.monotonic()
    thread.start()
    while len(fired) < 2 and time.monotonic() - started < 5:
        time.sleep(0.05)
    stop.set()
    thread.join(5)

    assert len(fired) >= 2
    assert fired[0][0] == "ProbeSchedule"
    assert fired[0][1]["detail-type"] == "Scheduled Event"
    assert time.monotonic() - started >= 0.4
    assert not thread.is_alive()


@pytest.mark.parametrize(
    ("expression", "after", "expected"),
    [
        ("rate(5 minutes)", "2024-01-01T10:00:30", "2024-01-01T10:05:30"),
        ("rate(1 day)", "2024-01-01T10:00:00", "2024-01-02T10:00:00"),
        ("cron(0 3 * * ? *)", "2024-01-01T05:00:00", "2024-01-02T03:00:00"),
        ("cron(0 3 * * ? *)", "2024-01-01T02:59:59", "2024-01-01T03:00:00"),
        ("cron(0/15 * * * ? *)", "2024-01-01T10:07:00", "2024-01-01T10:15:00"),
        ("cron(30 9 ? * MON-FRI *)", "2024-01-05T10:00:00", "2024-01-08T09:30:00"),  # Friday -> Monday
        ("cron(0 12 1 JAN,JUL ? 2025)", "2024-03-01T00:00:00", "2025-01-01T12:00:00"),
        ("cron(0 0 ? * 1 *)", "2024-01-01T00:00:00", "2024-01-07T00:00:00"),  # 1 = Sunday
    ],
)
def test_next_fire(expression: str, after: str, expected: str) -> None:
    start = datetime.fromisoformat(after).replace(tzinfo=UTC)
    assert next_fire(expression, start) == datetime.fromisoformat(expected).replace(tzinfo=UTC)


@pytest.mark.parametrize("expression", ["every day", "cron(0 3 * *)", "cron(0 3 L * ? *)", "cron(99 * * * ? *)"])
def test_unsupported_expressions_are_refused(expression: str) -> None:
    with pytest.raises(ValueError):  # noqa: PT011
        validate(expression)
