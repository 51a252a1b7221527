"""Small corrections to moto, applied in the process that hosts the local cloud."""

from __future__ import annotations

import logging
from typing import Any

from moto.core.responses import ActionResult, EmptyResult
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.resource import ResourceCondition
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_callback import (
    StateTaskServiceCallback,
)
from moto.stepfunctions.parser.models import StepFunctionsParserBackend
from moto.stepfunctions.responses import StepFunctionResponse

from infra.local import (
    moto_speedups,
    moto_transactions,
    table_writes,
    task_handoff,
    throttling,
    transaction_tokens,
)


def _send_task_failure(self: Any) -> ActionResult:
    # moto's handler drops `cause`; AWS records it in the TaskFailed event (Catch's $.Cause).
    backend = self.stepfunction_backend
    token, error = self._get_param("taskToken"), self._get_param("error")
    if isinstance(backend, StepFunctionsParserBackend):
        backend.send_task_failure(token, error=error, cause=self._get_param("cause"))
    else:
        backend.send_task_failure(token, error=error)
    return EmptyResult()


_ORIGINAL_EVAL_EXECUTION = StateTaskServiceCallback._eval_execution


def _eval_execution_with_fresh_token(self: Any, env: Any) -> None:
    # moto makes the task token once per state, so a Retry attempt reused the first attempt's token and was
    # answered at once with its stale outcome. In AWS each attempt is a new task with its own token.
    waits = (
        self._is_integration_pattern() and ResourceCondition.WaitForTaskToken in self._supported_integration_patterns
    )
    state = env.states.context_object.context_object_data.get("State") or {}
    if waits and state.get("RetryCount", 0) > 0:
        env.callback_pool_manager.add(env.states.context_object.update_task_token())
    _ORIGINAL_EVAL_EXECUTION(self, env)


def apply() -> None:
    """Install the corrections (idempotent)."""
    # Every failed task state logs a multi-kilobyte dump of the parsed state; the history has the details.
    logging.getLogger("moto.stepfunctions.parser").setLevel(logging.CRITICAL)
    setattr(StepFunctionResponse, "send_task_failure", _send_task_failure)  # noqa: B010 - mypy forbids assigning a method
    setattr(StateTaskServiceCallback, "_eval_execution", _eval_execution_with_fresh_token)  # noqa: B010
    moto_transactions.apply()
    transaction_tokens.apply()
    throttling.apply()  # outermost: a refused request never reaches the token check or moto
    moto_speedups.apply()
    task_handoff.apply()
    table_writes.apply()
