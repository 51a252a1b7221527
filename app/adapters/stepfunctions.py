"""Step Functions adapters: start the order workflow, and look up an order's execution."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from botocore.exceptions import ClientError

from app.adapters.aws_errors import error_code


class StepFunctionsStarter:
    """Starts the order workflow; the execution name is the order id, so a duplicate cannot start."""

    def __init__(self, client: Any, state_machine_arn: str) -> None:
        self.client = client
        self.state_machine_arn = state_machine_arn

    def start(self, order_id: str, payload: Mapping[str, Any]) -> bool:
        """True if started, False if an execution of this name already exists."""
        try:
            self.client.start_execution(
                stateMachineArn=self.state_machine_arn, name=order_id, input=json.dumps(dict(payload))
            )
        except ClientError as exc:
            if error_code(exc) == "ExecutionAlreadyExists":
                return False
            raise
        return True


class StepFunctionsExecutions:
    """The order workflow's execution of an order is named by the order id."""

    def __init__(self, client: Any, state_machine_arn: str) -> None:
        self.client = client
        self.execution_prefix = state_machine_arn.replace(":stateMachine:", ":execution:", 1)

    def status(self, order_id: str) -> str | None:
        """DescribeExecution's status, or None if the order never had an execution."""
        try:
            result = self.client.describe_execution(executionArn=f"{self.execution_prefix}:{order_id}")
        except ClientError as exc:
            if error_code(exc) == "ExecutionDoesNotExist":
                return None
            raise
        return str(result["status"])
