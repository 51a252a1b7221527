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
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before the function's Timeout."""
        return max(0, self._deadline_ms - int(time.time() * 1000))


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
        init_error = error_of(exc, "Runtime.ImportModuleError")
        print(f"[ERROR] Runtime.ImportModuleError: {exc}", file=sys.stderr, flush=True)
    # Init is over: the function's Timeout applies to invocations only, as in Lambda.
    replies.write(json.dumps({"ready": True}) + "\n")
    replies.flush()
    for line in requests:
        request = json.loads(line)
        reply = {"id": request["id"], **_invoke(handler, init_error, request)}
        sys.stderr.flush()
        print(LOGS_FLUSHED, flush=True)
        replies.write(json.dumps(reply) + "\n")
        replies.flush()


def _invoke(handler: Handler | None, init_error: dict[str, Any] | None, request: dict[str, Any]) -> dict[str, Any]:
    if handler is None:
        return {"error": {**(init_error or {}), "requestId": request["id"]}}
    context = LambdaContext(request["id"], request["deadline_ms"], request["arn"])
    try:
        result = handler(request["event"], context)
    except Exception as exc:  # noqa: BLE001 - any handler error is reported, as Lambda does
        error = {**error_of(exc), "requestId": request["id"]}
        print(f"[ERROR] {error['errorType']}: {error['errorMessage']}", file=sys.stderr, flush=True)
        print("".join(traceback.format_exception(exc)).rstrip(), file=sys.stderr, flush=True)
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
