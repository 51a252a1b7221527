"""Small corrections to moto, applied in the process that hosts the local cloud."""

from __future__ import annotations

import logging
from typing import Any

from moto.core.responses import ActionResult, EmptyResult
from moto.stepfunctions.parser.models import StepFunctionsParserBackend
from moto.stepfunctions.responses import StepFunctionResponse

from infra.local import moto_transactions


def _send_task_failure(self: Any) -> ActionResult:
    # moto's handler drops `cause`; AWS records it in the TaskFailed event (Catch's $.Cause).
    backend = self.stepfunction_backend
    token, error = self._get_param("taskToken"), self._get_param("error")
    if isinstance(backend, StepFunctionsParserBackend):
        backend.send_task_failure(token, error=error, cause=self._get_param("cause"))
    else:
        backend.send_task_failure(token, error=error)
    return EmptyResult()


def apply() -> None:
    """Install the corrections (idempotent)."""
    # Every failed task state logs a multi-kilobyte dump of the parsed state; the history has the details.
    logging.getLogger("moto.stepfunctions.parser").setLevel(logging.CRITICAL)
    setattr(StepFunctionResponse, "send_task_failure", _send_task_failure)  # noqa: B010 - mypy forbids assigning a method
    moto_transactions.apply()
