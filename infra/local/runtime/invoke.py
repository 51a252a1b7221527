"""`make invoke FN=<LogicalId> EVENT=<file>`: one invocation, printed like `sam local invoke`."""

from __future__ import annotations

import json
import socket
import sys
from pathlib import Path
from typing import Any

from infra.local.cloud import LocalCloud
from infra.local.paths import TEMPLATE_PATH
from infra.local.provision import provision
from infra.local.runtime.functions import FUNCTION_TYPES, spec_of
from infra.local.runtime.sources.base import Services
from infra.local.runtime.sources.schedule import SCHEDULE_TYPES, ScheduleSource, function_schedule_sources
from infra.local.runtime.worker import FunctionPool, LogSink
from infra.local.template import Stack, load_template


def _listening(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def default_event(pool: FunctionPool, stack: Stack, log: LogSink = _stderr) -> Any:
    """The function's sample event; else the payload of its first schedule; else an empty event."""
    from infra.local.samples import BUILDERS

    builder = BUILDERS.get(pool.spec.logical_id)
    if builder is not None:
        return builder(stack)
    services = Services(stack, lambda _, event: pool.invoke(event), log)
    for name, event in pool.spec.events.items():
        if event.get("Type") in SCHEDULE_TYPES:
            for source in function_schedule_sources(services, pool.spec, name, event.get("Properties", {})):
                if isinstance(source, ScheduleSource):
                    return source.event()
    return {}


class EventFileError(Exception):
    """An EVENT= file that is missing or not JSON."""


def read_event(path: str) -> Any:
    """The JSON event in the file; EventFileError says in one line what is wrong."""
    try:
        return json.loads(Path(path).read_text())
    except OSError as exc:
        raise EventFileError(f"EVENT={path}: cannot read it ({exc.strerror})") from exc
    except ValueError as exc:
        raise EventFileError(f"EVENT={path}: not JSON ({exc})") from exc


def invoke_command(
    logical_id: str, event_path: str | None, host: str, aws_port: int, template: Path = TEMPLATE_PATH
) -> int:
    """Invoke one function against the running local cloud (or a fresh one); print the result."""
    cloud = None if _listening(host, aws_port) else LocalCloud(host).start()
    endpoint = cloud.endpoint if cloud else f"http://{host}:{aws_port}"
    stack = Stack(load_template(template), endpoint)
    try:
        if cloud is not None:
            print(f"no local cloud on port {aws_port}: using a fresh one at {endpoint}", file=sys.stderr)
            provision(stack)
        functions = sorted(stack.of_type(*FUNCTION_TYPES))
        if logical_id not in functions:
            print(f"unknown function {logical_id!r}; the template's functions: {', '.join(functions)}", file=sys.stderr)
            return 2
        try:
            event = read_event(event_path) if event_path else None
        except EventFileError as exc:
            print(str(exc), file=sys.stderr)
            return 2
        pool = FunctionPool(spec_of(stack, logical_id), _stderr)
        event = default_event(pool, stack) if event is None else event
        outcome = pool.invoke(event)
        pool.close()
        print(json.dumps(outcome.result if outcome.ok else outcome.error, indent=2))
        return 0 if outcome.ok else 1
    finally:
        if cloud is not None:
            cloud.stop()
