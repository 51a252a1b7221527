"""Every event put on a bus of the local cloud, with the rules it matched: read where moto matches them."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from moto.events.models import EventsBackend, Rule

from infra.local.console.recorder import BusEvent, RuleMatch, clip

BusSink = Callable[[BusEvent], None]
DETAIL_CHARS = 4000

_sinks: list[BusSink] = []
_matches = threading.local()  # the rules each event of the PutEvents call in this thread met
_ORIGINAL_PUT = EventsBackend.put_events
_ORIGINAL_SEND = Rule.send_to_targets


def _put_events(self: EventsBackend, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    # A rule may target another bus, which puts events from inside this call: each call keeps its own.
    outer = getattr(_matches, "by_event", None)
    _matches.by_event = {}
    try:
        entries = _ORIGINAL_PUT(self, events)
    finally:
        by_event: dict[str, list[RuleMatch]] = _matches.by_event
        _matches.by_event = outer
    for event, entry in zip(events, entries, strict=False):
        if "EventId" in entry:
            recorded = BusEvent(
                at=time.time(),
                event_id=entry["EventId"],
                bus=str(event.get("EventBusName") or "default").rsplit("/", 1)[-1],
                source=str(event.get("Source", "")),
                detail_type=str(event.get("DetailType", "")),
                detail=clip(str(event.get("Detail", "")), DETAIL_CHARS),
                rules=tuple(by_event.get(entry["EventId"], ())),
            )
            for sink in list(_sinks):
                sink(recorded)
    return entries


def _send_to_targets(self: Rule, original_event: Any, transform_input: bool = True) -> None:
    by_event = getattr(_matches, "by_event", None)
    if by_event is not None:
        matched = bool(self.event_pattern.matches_event(original_event))
        targets = tuple(str(t["Arn"]) for t in self.targets) if matched else ()
        by_event.setdefault(original_event["id"], []).append(RuleMatch(self.name, matched, targets))
    _ORIGINAL_SEND(self, original_event, transform_input)


def watch(sink: BusSink) -> Callable[[], None]:
    """Send every event put on any bus of this process's moto to `sink`; the function that stops it."""
    EventsBackend.put_events = _put_events  # type: ignore[method-assign]
    Rule.send_to_targets = _send_to_targets  # type: ignore[method-assign]
    _sinks.append(sink)

    def stop() -> None:
        if sink in _sinks:
            _sinks.remove(sink)

    return stop
