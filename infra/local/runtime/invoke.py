"""`make invoke FN=<LogicalId> EVENT=<file>`: one invocation, printed like `sam local invoke`.

Against a running `make run`, the invocation goes to its warm function through the console's Lambda Invoke
API (infra/local/console/lambda_api.py): standard library only, so the command costs what Python's start
does. Without one, it starts a local cloud and the function itself (seconds: moto and a cold start).
"""

from __future__ import annotations

import base64
import json
import socket
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING, Any

from infra.local.paths import TEMPLATE_PATH

if TYPE_CHECKING:
    from infra.local.runtime.worker import FunctionPool, LogSink
    from infra.local.template import Stack

NOT_FOUND_HINT = "does not exist"


def _listening(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def default_event(pool: FunctionPool, stack: Stack, log: LogSink = _stderr) -> Any:
    """The function's sample event; else the payload of its first schedule; else an empty event."""
    from infra.local.runtime.sources.base import Services
    from infra.local.runtime.sources.schedule import SCHEDULE_TYPES, ScheduleSource, function_schedule_sources
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
    logical_id: str,
    event_path: str | None,
    host: str,
    aws_port: int,
    template: Path = TEMPLATE_PATH,
    console_port: int | None = None,
) -> int:
    """Invoke one function: through a running `make run` if its console answers, else in a fresh runtime."""
    try:
        event = read_event(event_path) if event_path else None
    except EventFileError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    if console_port is not None and _listening(host, console_port):
        payload = b"" if event is None else json.dumps(event).encode()  # empty: the function's default sample
        return _through_console(logical_id, payload, host, console_port)
    return _in_process(logical_id, event, host, aws_port, template)


def _through_console(logical_id: str, payload: bytes, host: str, port: int) -> int:
    """POST the event to the running stack's Lambda Invoke API; print its logs, then its answer."""
    url = f"http://{host}:{port}/2015-03-31/functions/{logical_id}/invocations"
    request = urllib.request.Request(url, data=payload, method="POST", headers={"X-Amz-Log-Type": "Tail"})
    try:
        with urllib.request.urlopen(request, timeout=900) as reply:  # noqa: S310 - a loopback URL we built
            body, headers = reply.read(), reply.headers
    except urllib.error.HTTPError as exc:
        message = json.loads(exc.read() or b"{}").get("Message", exc.reason)
        print(f"{logical_id}: {message}", file=sys.stderr)
        return 2
    for line in base64.b64decode(headers.get("X-Amz-Log-Result", "")).decode(errors="replace").splitlines():
        _stderr(line)
    answer = json.loads(body)
    failed = headers.get("X-Amz-Function-Error") is not None
    print(json.dumps(_shown(answer) if failed else answer, indent=2))
    if not failed:
        return 0
    _hint(answer)
    return 1


def _shown(error: Any) -> Any:
    """An error as the terminal shows it: without its stack, which the log lines above already hold."""
    return {k: v for k, v in error.items() if k != "stackTrace"} if isinstance(error, dict) else error


def _hint(error: Any) -> None:
    """A sample names ids that only exist once an order has been placed: say what to pass instead."""
    message = str(error.get("errorMessage", "")) if isinstance(error, dict) else ""
    kind = str(error.get("errorType", "")) if isinstance(error, dict) else ""
    if NOT_FOUND_HINT in message or "not found" in message:
        print(
            "hint: a workflow task's sample takes the newest order, and there is none yet: place one "
            "(docs/api.md's walk-through) and invoke again, or pass your own: make event FN=... > e.json; EVENT=e.json",
            file=sys.stderr,
        )
    elif kind == "IllegalTransition":
        print(
            "hint: the newest order is past this step (tasks run in order); pass an order that is at it: "
            "make event FN=... > e.json, put its id in, EVENT=e.json",
            file=sys.stderr,
        )


def _fresh_cloud(host: str) -> Any:
    """A local cloud of its own, started: only when none runs, since importing moto alone takes seconds."""
    from infra.local.cloud import LocalCloud

    return LocalCloud(host).start()


def _in_process(logical_id: str, event: Any, host: str, aws_port: int, template: Path) -> int:
    """Invoke one function against the running local cloud (or a fresh one); print the result."""
    from infra.local.provision import provision
    from infra.local.runtime.functions import FUNCTION_TYPES, spec_of
    from infra.local.runtime.worker import FunctionPool
    from infra.local.template import Stack, load_template

    cloud = None if _listening(host, aws_port) else _fresh_cloud(host)
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
        pool = FunctionPool(spec_of(stack, logical_id), _stderr)
        event = default_event(pool, stack) if event is None else event
        outcome = pool.invoke(event)
        pool.close()
        print(json.dumps(outcome.result if outcome.ok else _shown(outcome.error), indent=2))
        if not outcome.ok:
            _hint(outcome.error)
        return 0 if outcome.ok else 1
    finally:
        if cloud is not None:
            cloud.stop()
