"""What caused an invocation, and who wants to know: the hooks the local console records through."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from types import MappingProxyType
from typing import Any, Protocol

# Set by the thread that invokes (a source's delivery loop, a task, the console's button); read by the pool.
TRIGGER: ContextVar[Mapping[str, str]] = ContextVar("trigger", default=MappingProxyType({"kind": "direct"}))


@contextlib.contextmanager
def triggered_by(**fields: str) -> Iterator[None]:
    """Attribute the invocations made inside the block to `fields` (kind=..., source=..., execution=...)."""
    token = TRIGGER.set(fields)
    try:
        yield
    finally:
        TRIGGER.reset(token)


class InvocationObserver(Protocol):
    """Told of every invocation and every log line of the runtime's functions."""

    def invoked(
        self, function: str, request_id: str, event: Any, outcome: Any, started: float, trigger: Mapping[str, str]
    ) -> None:
        """One finished invocation (outcome: the runtime's Invocation)."""

    def logged(self, function: str, request_id: str | None, line: str) -> None:
        """One line a function's worker wrote, with the invocation it belongs to (None between invocations)."""
