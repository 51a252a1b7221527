"""Step Functions task messages handed to the local runtime in process, and its answers given back the same way.

The runtime rewrites each Lambda task into an SQS `sendMessage.waitForTaskToken` to a queue of its own (see
infra/local/runtime/sources/stepfunctions.py). Through SQS, each task cost the local cloud four requests (the
send, a receive, SendTaskSuccess, the delete): under `make load` a third of all its requests, each one
parsed, routed and serialised twice in this one process. Moto and the runtime share the process, so while the
runtime listens, the message goes straight to it; when nothing listens, it goes to the queue as before. The
execution still waits for its token, so Retry, Catch, timeouts and the history are moto's own.
"""

from __future__ import annotations

import hashlib
import threading
import uuid
from collections.abc import Callable
from typing import Any

from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_sqs import (
    StateTaskServiceSqs,
)
from moto.stepfunctions.parser.asl.utils.encoding import to_json_str
from moto.stepfunctions.parser.models import stepfunctions_parser_backends

from infra.local.template import ACCOUNT_ID

Listener = Callable[[str], bool]

_LISTENERS: dict[str, Listener] = {}
_LOCK = threading.Lock()
_ORIGINAL_EVAL_SERVICE_TASK = StateTaskServiceSqs._eval_service_task


def listen(queue_url: str, listener: Listener) -> None:
    """Hand the task messages for `queue_url` to `listener` (which returns False to send them to SQS)."""
    with _LOCK:
        _LISTENERS[queue_url] = listener


def stop_listening(queue_url: str) -> None:
    """Send the task messages for `queue_url` to SQS again."""
    with _LOCK:
        _LISTENERS.pop(queue_url, None)


def succeed(region: str, token: str, output: str) -> None:
    """SendTaskSuccess, in process."""
    stepfunctions_parser_backends[ACCOUNT_ID][region].send_task_success(token, output)


def fail(region: str, token: str, error: str, cause: str) -> None:
    """SendTaskFailure, in process (with its cause, which AWS records for Catch's $.Cause)."""
    stepfunctions_parser_backends[ACCOUNT_ID][region].send_task_failure(token, error=error, cause=cause)


def _eval_service_task(
    self: Any, env: Any, resource_runtime_part: Any, normalised_parameters: dict[str, Any], state_credentials: Any
) -> None:
    listener = _LISTENERS.get(str(normalised_parameters.get("QueueUrl")))
    if listener is not None and self._get_boto_service_action() == "send_message":
        body = normalised_parameters.get("MessageBody")
        body = body if isinstance(body, str) else to_json_str(body)
        if listener(body):
            # What SendMessage returns, as the TaskSubmitted event records it.
            md5 = hashlib.md5(body.encode(), usedforsecurity=False).hexdigest()
            env.stack.append({"MessageId": str(uuid.uuid4()), "MD5OfMessageBody": md5})
            return
    _ORIGINAL_EVAL_SERVICE_TASK(self, env, resource_runtime_part, normalised_parameters, state_credentials)


def apply() -> None:
    """Install the handoff (idempotent)."""
    setattr(StateTaskServiceSqs, "_eval_service_task", _eval_service_task)  # noqa: B010 - mypy forbids assigning a method
