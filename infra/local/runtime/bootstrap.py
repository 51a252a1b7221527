"""Inside a worker process: import the handler once, then serve invocations read from stdin.

Requests arrive as JSON lines on stdin; replies leave as JSON lines on the file descriptor
given in argv, so whatever the handler prints (stdout/stderr) cannot corrupt the protocol.
"""

from __future__ import annotations

import importlib
import json
import os
import signal
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any, TextIO

Handler = Callable[[Any, "LambdaContext"], Any]
# Written to stdout after each invocation, so the runtime prints the handler's logs before its REPORT line.
LOGS_FLUSHED = "\x00logs-flushed"
PROJECT_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))) + os.sep


class LambdaContext:
    """The context object of the Python Lambda runtime (awslambdaric's attributes)."""

    def __init__(self, request_id: str, deadline_ms: int, invoked_function_arn: str) -> None:
        self.aws_request_id = request_id
        self.invoked_function_arn = invoked_function_arn
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        # A string, as in AWS: awslambdaric copies AWS_LAMBDA_FUNCTION_MEMORY_SIZE verbatim.
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME", "")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME", "")
        self.identity = None
        self.client_context = None
        self.tenant_id = None  # set by Lambda only for functions in tenant isolation mode
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before the function's Timeout."""
        return max(0, self._deadline_ms - int(time.time() * 1000))

    def log(self, message: str) -> None:
        """Write to the function's log, as `context.log` does in the Python runtime."""
        sys.stdout.write(message)
        sys.stdout.flush()


def error_of(exc: BaseException, error_type: str | None = None) -> dict[str, Any]:
    """An exception in Lambda's error shape."""
    return {
        "errorMessage": str(exc),
        "errorType": error_type or type(exc).__name__,
        "requestId": "",
        # Frames from the handler on, as Lambda reports them: the runtime's own frames are left out.
        "stackTrace": traceback.format_list(
            [f for f in traceback.extract_tb(exc.__traceback__) if f.filename != __file__]
        ),
    }


_INSTALLED = (sys.prefix, sys.base_prefix, sys.exec_prefix)


class ModuleReport:
    """The source files (not installed packages) this process imported, each reported once: the reloader's map."""

    def __init__(self) -> None:
        self._seen: set[str] = set()
        self._count = 0

    def new(self) -> list[str]:
        """Project files imported since the last call (cheap when nothing was imported)."""
        if len(sys.modules) == self._count:
            return []
        self._count = len(sys.modules)
        files = {f for m in list(sys.modules.values()) if (f := _project_file(m)) is not None}
        fresh = sorted(files - self._seen)
        self._seen |= files
        return fresh


def _project_file(module: Any) -> str | None:
    # Source a developer edits: neither the standard library nor an installed package.
    path = getattr(module, "__file__", None)
    if not isinstance(path, str) or path.startswith(_INSTALLED) or "site-packages" in path:
        return None
    return path


def where(exc: BaseException) -> str:
    """`file:line` of an import failure: the offending line of a SyntaxError, else the deepest project frame."""
    if isinstance(exc, SyntaxError) and exc.filename:
        return f"{_relative(exc.filename)}:{exc.lineno or 0}"
    frames = [
        f
        for f in traceback.extract_tb(exc.__traceback__)
        if f.filename != __file__ and not f.filename.startswith(("<", *_INSTALLED))
    ]
    return f"{_relative(frames[-1].filename)}:{frames[-1].lineno}" if frames else ""


def _relative(path: str) -> str:
    return os.path.relpath(path, PROJECT_ROOT) if path.startswith(PROJECT_ROOT) else path


def expected(exc: BaseException) -> bool:
    """A domain outcome (ValidationError, InsufficientInventory, PaymentFailed, ...), not a fault.

    ServiceUnavailable is a domain class too, but it says a dependency failed: it keeps its traceback.
    """
    from app.domain.errors import DomainError, ServiceUnavailable

    return isinstance(exc, DomainError) and not isinstance(exc, ServiceUnavailable)


def load(path: str) -> Handler:
    """Import `package.module.function`."""
    module_name, _, attr = path.rpartition(".")
    handler: Handler = getattr(importlib.import_module(module_name), attr)
    return handler


def serve(handler_path: str, requests: TextIO, replies: TextIO) -> None:
    """Serve until stdin closes."""
    handler: Handler | None = None
    init_error: dict[str, Any] | None = None
    try:
        handler = load(handler_path)
    except Exception as exc:  # noqa: BLE001 - an import error is reported on every invoke, as Lambda does
        init_error = {**error_of(exc, "Runtime.ImportModuleError"), "where": where(exc)}
        print(f"[ERROR] Runtime.ImportModuleError: {exc}", file=sys.stderr, flush=True)
    # Init is over: the function's Timeout applies to invocations only, as in Lambda.
    modules = ModuleReport()
    ready: dict[str, Any] = {"ready": True, "modules": modules.new()}
    if init_error is not None:
        ready["error"] = init_error
    replies.write(json.dumps(ready) + "\n")
    replies.flush()
    for line in requests:
        request = json.loads(line)
        reply = {"id": request["id"], **_invoke(handler, init_error, request)}
        if loaded := modules.new():
            reply["modules"] = loaded  # imported lazily during this invocation: the reloader must know
        sys.stderr.flush()
        print(LOGS_FLUSHED, flush=True)
        replies.write(json.dumps(reply) + "\n")
        replies.flush()


def error_record(error: dict[str, Any], exc: BaseException | None, log_format: str = "Text") -> str:
    """The record AWS's runtime client writes for an unhandled error, in the function's log format.

    JSON (LoggingConfig's LogFormat): `{"timestamp", "level": "ERROR", errorMessage, errorType, requestId,
    stackTrace}` for every error, expected outcomes included, as CloudWatch stores it. Text: `[ERROR] Type:
    message` and the traceback, its lines joined by CR as the runtime client joins them, or, for an expected
    outcome (`exc` None), the readable `[OUTCOME] Type: message` alone. A message's own line breaks become CRs
    too, so no text of a message can start a record of its own.
    """
    if log_format == "JSON":
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        return json.dumps({"timestamp": stamp, "level": "ERROR", **error})
    lines = [f"[{'OUTCOME' if exc is None else 'ERROR'}] {error['errorType']}: {error['errorMessage']}"]
    if exc is not None:
        lines.append("".join(traceback.format_exception(exc)).rstrip())
    return "\r".join(lines).replace("\r\n", "\r").replace("\n", "\r")


def _invoke(handler: Handler | None, init_error: dict[str, Any] | None, request: dict[str, Any]) -> dict[str, Any]:
    if handler is None:
        return {"error": {**(init_error or {}), "requestId": request["id"]}}
    context = LambdaContext(request["id"], request["deadline_ms"], request["arn"])
    try:
        result = handler(request["event"], context)
    except Exception as exc:  # noqa: BLE001 - any handler error is reported, as Lambda does
        error = {**error_of(exc), "requestId": request["id"]}
        # A business outcome the workflow routes on (out of stock, declined): one line, no traceback, in text.
        log_format = os.environ.get("AWS_LAMBDA_LOG_FORMAT", "Text")
        print(error_record(error, None if expected(exc) else exc, log_format), file=sys.stderr, flush=True)
        return {"error": error}
    try:
        json.dumps(result)
    except (TypeError, ValueError) as exc:
        error = error_of(exc, "Runtime.MarshalError")
        error["errorMessage"] = f"Unable to marshal response: {exc}"
        return {"error": {**error, "requestId": request["id"]}}
    return {"result": result}


def main(argv: list[str]) -> None:
    """`python -m infra.local.runtime.bootstrap HANDLER REPLY_FD`."""
    handler_path, reply_fd = argv[0], int(argv[1])
    # Ctrl-C reaches the whole process group: the runtime drains, then closes stdin to stop us.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    requests = sys.stdin
    sys.stdin = open(os.devnull)  # noqa: SIM115 - the handler must not read the protocol stream
    with os.fdopen(reply_fd, "w") as replies:
        serve(handler_path, requests, replies)


if __name__ == "__main__":
    main(sys.argv[1:])
