"""LocalRuntime: every function of the template, wired to its event sources in the local cloud."""

from __future__ import annotations

import threading
from pathlib import Path
from types import TracebackType
from typing import Any

from infra.local.paths import TEMPLATE_PATH
from infra.local.runtime.functions import FunctionSpec, discover, unknown_debug_target
from infra.local.runtime.sources import EVENT_KINDS, RESOURCE_KINDS, SERVED_ELSEWHERE, ScheduleSource, Services, Source
from infra.local.runtime.sources.stepfunctions import StateMachineSource, state_machine_sources
from infra.local.runtime.trace import InvocationObserver, triggered_by
from infra.local.runtime.worker import FunctionPool, Invocation, LogSink, print_sink
from infra.local.template import Stack

DEBUG_PORT = 5678  # debugpy's default: the port VS Code's and PyCharm's attach configurations use


class LocalRuntime:
    """Runs the template's functions in warm worker processes and delivers their events."""

    def __init__(
        self,
        stack: Stack,
        *,
        template_dir: Path = TEMPLATE_PATH.parent,
        log: LogSink = print_sink,
        poll_seconds: int = 2,
        retry_delay_seconds: int = 2,
        concurrency: int = 2,
        debug: str | None = None,
        debug_port: int = DEBUG_PORT,
        observer: InvocationObserver | None = None,
    ) -> None:
        self.stack = stack
        self.log = log
        self.functions: dict[str, FunctionSpec] = discover(stack)
        if unknown := unknown_debug_target(stack, debug):
            raise KeyError(unknown)
        self.pools = {
            k: FunctionPool(spec, log, concurrency, debug_port if k == debug else None, observer)
            for k, spec in self.functions.items()
        }
        self.services = Services(stack, self.invoke, log, poll_seconds, retry_delay_seconds)
        self.template_dir = template_dir
        self.sources: list[Source] = []
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def _build_sources(self) -> list[Source]:
        sources: list[Source] = []
        for fn in self.functions.values():
            for name, event in fn.events.items():
                kind = event.get("Type", "")
                if kind in SERVED_ELSEWHERE:
                    continue
                factory = EVENT_KINDS.get(kind)
                if factory is None:
                    self.log(f"[runtime] {fn.logical_id}.{name}: {kind} events are not wired locally")
                    continue
                sources += factory(self.services, fn, name, event.get("Properties", {}))
        for logical_id, resource in self.stack.resources.items():
            resource_factory = RESOURCE_KINDS.get(resource["Type"])
            if resource_factory is not None:
                sources += resource_factory(self.services, self.functions, logical_id, resource)
        sources += state_machine_sources(self.services, self.functions, self.template_dir)
        return sources

    def start(self, warm: bool = True) -> LocalRuntime:
        """Create the local wiring, warm the event-driven functions (unless told not to) and start delivering."""
        self.sources = self._build_sources()
        for source in self.sources:
            source.setup()
        if warm:
            self.warm()
        for source in self.sources:
            thread = threading.Thread(target=self._deliver, args=(source,), name=source.description, daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def _deliver(self, source: Source) -> None:
        # Every invocation this source's thread makes is attributed to it (the console shows the cause).
        with triggered_by(kind="source", source=source.description):
            source.run(self._stop)

    def warm(self) -> None:
        """Start one worker of each event-driven function ahead of its first event."""
        for logical_id in self.event_driven():
            self.pools[logical_id].warm()

    def wait_warm(self) -> int:
        """Wait until every worker started so far has finished its init; how many did."""
        return sum(pool.wait_ready() for pool in self.pools.values())

    def refresh_state_machines(self, stack: Stack) -> list[str]:
        """Replace the state machines' definitions with those of `stack` (a saved definition file)."""
        self.stack = self.services.stack = stack
        refreshed = state_machine_sources(self.services, self.functions, self.template_dir)
        machines = [s for s in refreshed if isinstance(s, StateMachineSource)]
        for machine in machines:
            machine.setup()
        return [m.logical_id for m in machines]

    def event_driven(self) -> list[str]:
        """Logical ids of the functions some source delivers to."""
        ids = {fn.logical_id for s in self.sources if (fn := getattr(s, "fn", None)) is not None}
        ids.update(target for s in self.sources for target in getattr(s, "targets", ()))
        return sorted(ids)

    def describe(self) -> list[str]:
        """One line per wired source, for the startup banner."""
        return [source.description for source in self.sources]

    def invoke(self, logical_id: str, event: Any) -> Invocation:
        """Invoke a function directly (RequestResponse), as `aws lambda invoke` would."""
        return self.pools[logical_id].invoke(event)

    def schedules(self, logical_id: str) -> list[ScheduleSource]:
        """The schedules that target a function."""
        return [s for s in self.sources if isinstance(s, ScheduleSource) and s.fn.logical_id == logical_id]

    def fire(self, logical_id: str) -> Invocation:
        """Fire a function's (first) schedule now, with the payload the schedule sends."""
        schedules = self.schedules(logical_id)
        if not schedules:
            raise KeyError(f"{logical_id} has no schedule")
        return schedules[0].fire()

    def stop(self, timeout: float | None = None) -> None:
        """Stop receiving, let in-flight invocations finish, then stop the workers."""
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout)
        for pool in self.pools.values():
            pool.close()

    def __enter__(self) -> LocalRuntime:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()
