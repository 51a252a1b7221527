"""Lambda's Invoke API on the console's port: `make invoke` (and `aws lambda invoke --endpoint-url`) reach
the warm functions of `make run`, in a few milliseconds, without starting a cloud or a worker of their own.

As AWS answers it: 200 with the result; a function error is 200 too, with `X-Amz-Function-Error: Unhandled`
and the error as the body; `X-Amz-Log-Type: Tail` returns the invocation's last 4 KB of log lines, base64,
in `X-Amz-Log-Result`. An empty payload asks for the function's default sample (`make event FN=`).
"""

from __future__ import annotations

import base64
import json
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from infra.local.console.render import of
from infra.local.runtime.trace import triggered_by
from infra.local.samples import sample_event

PATH = "/2015-03-31/functions/{fid}/invocations"
LOG_TAIL_BYTES = 4096


def _error(status: int, kind: str, message: str) -> Response:
    return JSONResponse({"Type": "User", "Message": message}, status, headers={"X-Amzn-ErrorType": kind})


async def invoke(request: Request) -> Response:
    """Invoke a function (RequestResponse) with the posted event."""
    console = of(request)
    fid = request.path_params["fid"]
    if fid not in console.runtime.functions:
        known = ", ".join(sorted(console.runtime.functions))
        return _error(404, "ResourceNotFoundException", f"Function not found: {fid} (the template's: {known})")
    body = await request.body()
    try:
        event: Any = json.loads(body) if body.strip() else sample_event(console.stack, fid)
    except ValueError as exc:
        return _error(400, "InvalidRequestContentException", f"Could not parse request body into json: {exc}")
    except KeyError:
        event = {}

    def call() -> Any:
        with triggered_by(kind="cli", source="make invoke"):
            return console.runtime.invoke(fid, event)

    outcome = await run_in_threadpool(call)
    headers = {"X-Amz-Executed-Version": "$LATEST", "X-Amz-Request-Id": outcome.request_id}
    if not outcome.ok:
        headers["X-Amz-Function-Error"] = "Unhandled"
    if request.headers.get("x-amz-log-type") == "Tail":
        headers["X-Amz-Log-Result"] = _log_tail(console, outcome.request_id)
    body_out = json.dumps(outcome.result if outcome.ok else outcome.error)
    return Response(body_out, 200, headers=headers, media_type="application/json")


def _log_tail(console: Any, request_id: str) -> str:
    console.recorder.settle()
    record = console.recorder.invocation(request_id)
    text = "\n".join(record.logs if record is not None else []).encode()
    return base64.b64encode(text[-LOG_TAIL_BYTES:]).decode()
