"""Ports every use case may need: pages, the clock, notifications and health probes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

PageKey = dict[str, Any]
PAGE_LIMIT = 100  # the most items one page of any listing holds


@dataclass(frozen=True)
class Page[T, K]:
    """One page of a listing and where the next one starts: a store key (repositories) or a cursor (services)."""

    items: list[T]
    next_key: K | None = None


@dataclass(frozen=True)
class Message:
    """A notification to publish to a topic."""

    topic_arn: str
    body: str
    subject: str | None = None
    attributes: Mapping[str, str] = field(default_factory=dict)


class Publisher(Protocol):
    """Publishes notifications."""

    def publish(self, message: Message) -> None:
        """Publish one message."""


class Clock(Protocol):
    """The current time, injectable for tests."""

    def __call__(self) -> datetime:
        """Now, timezone-aware in UTC."""


class HealthProbe(Protocol):
    """Checks that one backing service answers."""

    name: str

    def check(self) -> None:
        """Return if healthy; raise otherwise."""
