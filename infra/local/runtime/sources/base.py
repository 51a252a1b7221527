"""What every event source shares: the runtime's services and the source protocol."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from infra.local.provision import client
from infra.local.runtime.functions import FunctionSpec
from infra.local.runtime.worker import Invocation, LogSink
from infra.local.template import ACCOUNT_ID, Stack

Invoke = Callable[[str, Any], Invocation]


@dataclass
class Services:
    """What a source may use: the stack, the function invoker, the log and the poll settings."""

    stack: Stack
    invoke: Invoke
    log: LogSink
    poll_seconds: int = 2
    retry_delay_seconds: int = 2

    def client(self, service: str) -> Any:
        """A boto3 client for the local cloud, attributed to the tooling rather than a function."""
        return client(self.stack, service)

    def queue_url(self, name: str) -> str:
        """The local URL of a queue, by name."""
        return f"{self.stack.endpoint}/{ACCOUNT_ID}/{name}"

    def runtime_name(self, *parts: str) -> str:
        """A physical name for a resource the runtime owns (SQS names allow 80 characters)."""
        return "-".join((str(self.stack.parameter("Service")), "local", *parts))[:80]


class Source(Protocol):
    """One event source wired to one function (or one state machine's task states)."""

    description: str

    def setup(self) -> None:
        """Create the local resources this source needs (rules, runtime queues, state machines)."""

    def run(self, stop: threading.Event) -> None:
        """Deliver events until `stop` is set; return after the in-flight delivery finished."""


class EventFactory(Protocol):
    """Builds the sources of one `Events` entry of a function."""

    def __call__(self, services: Services, fn: FunctionSpec, name: str, props: dict[str, Any]) -> list[Source]:
        """The sources of the event `name` of function `fn`."""
        ...


class ResourceFactory(Protocol):
    """Builds the sources of one template resource (a rule, a state machine)."""

    def __call__(
        self, services: Services, functions: dict[str, FunctionSpec], logical_id: str, resource: dict[str, Any]
    ) -> list[Source]:
        """The sources of resource `logical_id`."""
        ...


def guarded(services: Services, description: str, stop: threading.Event, step: Callable[[], None]) -> None:
    """Run `step` until stop; an error is logged and retried after a pause, never raised."""
    while not stop.is_set():
        try:
            step()
        except Exception as exc:  # noqa: BLE001 - a source must never stop the runtime
            services.log(f"[runtime] {description}: {type(exc).__name__}: {exc}")
            stop.wait(1)
