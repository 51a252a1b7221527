"""Step Functions: the template's state machines on moto's interpreter, Lambda tasks run locally.

Each Task state that names a template function becomes an SQS `sendMessage.waitForTaskToken` to a
runtime-owned queue; the runtime runs the handler and answers SendTaskSuccess or SendTaskFailure
(error = the exception's class name), so the definition's Retry and Catch apply unchanged (each retry
attempt gets its own token: see infra/local/moto_fixes.py). The message and the answer pass in process
while the runtime listens (infra/local/task_handoff.py); the queue takes the rest. Executions that end
FAILED, TIMED_OUT or ABORTED are announced on the default bus, as AWS does.
"""

from __future__ import annotations

import json
import math
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import yaml

from infra.local import task_handoff
from infra.local.runtime.functions import FunctionSpec
from infra.local.runtime.sources.base import Services, Source, guarded
from infra.local.runtime.trace import triggered_by
from infra.local.template import ACCOUNT_ID

SEND_WITH_TOKEN = "arn:aws:states:::sqs:sendMessage.waitForTaskToken"
LAMBDA_INVOKE = "arn:aws:states:::lambda:invoke"
_USED_PROPERTIES = (
    "Definition",
    "DefinitionString",
    "DefinitionUri",
    "DefinitionSubstitutions",
    "Type",
    "StateMachineType",
    "Role",
    "RoleArn",
)
STATE_MACHINE_TYPES = ("AWS::Serverless::StateMachine", "AWS::StepFunctions::StateMachine")


class TaskRewriter:
    """Rewrites a definition's Lambda Task states into task-token messages for the runtime."""

    def __init__(self, functions: dict[str, FunctionSpec], queue_url: str) -> None:
        self.queue_url = queue_url
        self.by_ref: dict[str, str] = {}
        for fn in functions.values():
            for ref in (fn.arn, f"{fn.arn}:$LATEST", fn.name):
                self.by_ref[ref] = fn.logical_id
        self.rewritten = 0
        self.targets: set[str] = set()

    def definition(self, definition: dict[str, Any]) -> dict[str, Any]:
        """A copy of the definition with every local Lambda task rewritten."""
        copy: dict[str, Any] = json.loads(json.dumps(definition))
        self._states(copy)
        return copy

    def _states(self, machine: dict[str, Any]) -> None:
        for state in machine.get("States", {}).values():
            if state.get("Type") == "Task":
                self._task(state)
            for branch in state.get("Branches", []):
                self._states(branch)
            for key in ("ItemProcessor", "Iterator"):
                if key in state:
                    self._states(state[key])

    def _task(self, state: dict[str, Any]) -> None:
        resource = state.get("Resource", "")
        params = state.get("Parameters")
        if resource in self.by_ref:
            # Direct ARN form: Parameters (if any) are the function's input; the result is the output.
            body = self._body(self.by_ref[resource], wrap=False)
            body.update({"input": params} if params is not None else {"input.$": "$"})
        elif resource == LAMBDA_INVOKE and isinstance(params, dict) and params.get("FunctionName") in self.by_ref:
            # Optimised integration: the input is Payload; the output is wrapped as Lambda's Invoke response.
            body = self._body(self.by_ref[params["FunctionName"]], wrap=True)
            if "Payload" in params:
                body["input"] = params["Payload"]
            else:
                body["input.$"] = params.get("Payload.$", "$")
        else:
            return
        self.targets.add(body["function"])
        state["Resource"] = SEND_WITH_TOKEN
        state["Parameters"] = {"QueueUrl": self.queue_url, "MessageBody": body}
        self.rewritten += 1

    @staticmethod
    def _body(logical_id: str, wrap: bool) -> dict[str, Any]:
        # The execution and the state travel along, so that the console links each invocation to its state.
        return {
            "function": logical_id,
            "wrap": wrap,
            "token.$": "$$.Task.Token",
            "execution.$": "$$.Execution.Id",
            "state.$": "$$.State.Name",
        }


def load_definition(services: Services, props: dict[str, Any], template_dir: Path) -> dict[str, Any]:
    """The definition from DefinitionUri (or inline Definition), with DefinitionSubstitutions applied."""
    if "Definition" in props:
        text = json.dumps(props["Definition"])
    elif "DefinitionString" in props:
        text = str(props["DefinitionString"])
    else:
        text = (template_dir / str(props["DefinitionUri"])).read_text()
    for key, value in services.stack.resolve(props.get("DefinitionSubstitutions", {})).items():
        text = text.replace("${" + key + "}", str(value))
    loaded: dict[str, Any] = yaml.safe_load(text)
    return loaded


class StateMachineSource:
    """Creates (or updates) one state machine from the template, with its Lambda tasks rewritten."""

    def __init__(self, services: Services, logical_id: str, definition: dict[str, Any], props: dict[str, Any]) -> None:
        self.services = services
        self.logical_id = logical_id
        self.name = services.stack.name(logical_id)
        self.definition = definition
        self.kind = str(props.get("Type") or props.get("StateMachineType") or "STANDARD")
        self.role = str(props.get("Role") or props.get("RoleArn") or f"arn:aws:iam::{ACCOUNT_ID}:role/{self.name}-role")
        self.description = f"{logical_id}: state machine {self.name}"

    def setup(self) -> None:
        """Create the state machine in the local cloud; replace its definition if it exists."""
        sfn = self.services.client("stepfunctions")
        arn = self.arn
        body = json.dumps(self.definition)
        try:
            sfn.describe_state_machine(stateMachineArn=arn)
        except sfn.exceptions.StateMachineDoesNotExist:
            sfn.create_state_machine(name=self.name, definition=body, roleArn=self.role, type=self.kind)
        else:
            sfn.update_state_machine(stateMachineArn=arn, definition=body, roleArn=self.role)

    def run(self, stop: threading.Event) -> None:
        """Announce ended executions on the default bus, as Step Functions does for STANDARD ones (moto does not)."""
        if self.kind == "EXPRESS":
            return  # Step Functions raises no status-change events for Express executions
        watcher = ExecutionWatcher(self.services, self.arn)
        watcher.prime()
        guarded(self.services, self.description, stop, lambda: watcher.announce_once(stop))

    @property
    def arn(self) -> str:
        """The state machine's ARN in the local cloud."""
        return f"arn:aws:states:{self.services.stack.region}:{ACCOUNT_ID}:stateMachine:{self.name}"


class ExecutionWatcher:
    """Puts a "Step Functions Execution Status Change" event on the default bus for each execution that ends
    FAILED, TIMED_OUT or ABORTED, so that rules on those events (the order reconciler) run locally too."""

    def __init__(self, services: Services, state_machine_arn: str) -> None:
        self.services = services
        self.state_machine_arn = state_machine_arn
        self.sfn = services.client("stepfunctions")
        self.events = services.client("events")
        self.seen: set[str] = set()

    def prime(self) -> None:
        """Executions that had already ended before the runtime started are not announced again."""
        self.seen.update(e["executionArn"] for e in self._ended())

    def announce_once(self, stop: threading.Event) -> None:
        """One look at the ended executions; announce the new ones; then wait a poll interval."""
        for execution in self._ended():
            if execution["executionArn"] not in self.seen:
                self._announce(execution["executionArn"])
                self.seen.add(execution["executionArn"])
        stop.wait(self.services.poll_seconds)

    def _ended(self) -> list[dict[str, Any]]:
        ended: list[dict[str, Any]] = []
        for status in ENDED_ABNORMALLY:
            pages = self.sfn.get_paginator("list_executions").paginate(
                stateMachineArn=self.state_machine_arn, statusFilter=status
            )
            ended += [e for page in pages for e in page.get("executions", [])]
        return ended

    def _announce(self, execution_arn: str) -> None:
        described = self.sfn.describe_execution(executionArn=execution_arn)
        detail = execution_status_detail(described)
        self.events.put_events(
            Entries=[
                {
                    "Source": "aws.states",
                    "DetailType": "Step Functions Execution Status Change",
                    "Detail": json.dumps(detail),
                    "Resources": [execution_arn],
                    "EventBusName": "default",
                }
            ]
        )
        self.services.log(f"[runtime] execution {described['name']} {described['status']}: status change event sent")


ENDED_ABNORMALLY = ("FAILED", "TIMED_OUT", "ABORTED")


def execution_status_detail(described: dict[str, Any]) -> dict[str, Any]:
    """The `detail` of AWS's Step Functions Execution Status Change event, from DescribeExecution."""

    def millis(key: str) -> int | None:
        value = described.get(key)
        return int(value.timestamp() * 1000) if value is not None else None

    return {
        "executionArn": described["executionArn"],
        "stateMachineArn": described["stateMachineArn"],
        "name": described["name"],
        "status": described["status"],
        "startDate": millis("startDate"),
        "stopDate": millis("stopDate"),
        "input": described.get("input"),
        "output": described.get("output"),
        "inputDetails": {"included": True},
        "outputDetails": {"included": True} if described.get("output") is not None else None,
        "error": described.get("error"),
        "cause": described.get("cause"),
    }


class TaskQueueSource:
    """Runs the task messages of every state machine and answers with the task token."""

    def __init__(
        self, services: Services, queue_name: str, targets: list[str], timeout: float, concurrency: int = 8
    ) -> None:
        self.services = services
        self.targets = targets
        self.queue_name = queue_name
        self.queue_url = services.queue_url(queue_name)
        self.timeout = timeout
        self.concurrency = concurrency
        self.description = f"Step Functions tasks ({', '.join(targets)}): in process, else SQS {queue_name}"
        self.sqs = services.client("sqs")

    def setup(self) -> None:
        """The runtime's task queue; a message stays hidden while its handler may still run."""
        visibility = str(math.ceil(self.timeout) + 60)
        self.sqs.create_queue(QueueName=self.queue_name, Attributes={"VisibilityTimeout": visibility})

    def run(self, stop: threading.Event) -> None:
        """Run tasks concurrently, handed over in process or read from the queue; on stop, finish those in flight."""
        with ThreadPoolExecutor(self.concurrency, thread_name_prefix="sfn-task") as pool:

            def handed(body: str) -> bool:
                if stop.is_set():
                    return False  # to the queue: read by the next start, never dropped
                try:
                    pool.submit(self.run_task, body)
                except RuntimeError:  # the pool is shutting down
                    return False
                return True

            def poll_once() -> None:
                response = self.sqs.receive_message(
                    QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=self.services.poll_seconds
                )
                for message in response.get("Messages", []):
                    pool.submit(self.run_task, message["Body"], message["ReceiptHandle"])

            task_handoff.listen(self.queue_url, handed)
            try:
                # The queue still gets what was sent while nothing listened (before the start, during a stop).
                guarded(self.services, self.description, stop, poll_once)
            finally:
                task_handoff.stop_listening(self.queue_url)

    def run_task(self, body: str, receipt: str | None = None) -> None:
        """Invoke the task's function and report its outcome to Step Functions."""
        region = self.services.stack.region
        try:
            task = json.loads(body)
            cause = {"execution": str(task.get("execution", "")), "state": str(task.get("state", ""))}
            with triggered_by(kind="task", source=self.description, **cause):
                outcome = self.services.invoke(task["function"], task["input"])
            if outcome.ok:
                output = lambda_invoke_response(outcome.result, outcome.request_id) if task["wrap"] else outcome.result
                task_handoff.succeed(region, task["token"], json.dumps(output))
            else:
                error = outcome.error or {}
                error_type = str(error.get("errorType", "Exception"))[:256]
                task_handoff.fail(region, task["token"], error_type, str(error.get("errorMessage", ""))[:32768])
        except Exception as exc:  # noqa: BLE001 - one bad task must not stop the others
            self.services.log(f"[runtime] {self.description}: {type(exc).__name__}: {exc}")
        finally:
            if receipt is not None:
                self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=receipt)


def lambda_invoke_response(payload: Any, request_id: str) -> dict[str, Any]:
    """What `arn:aws:states:::lambda:invoke` returns: the payload wrapped in Lambda's Invoke response."""
    headers = {"Content-Type": "application/json", "X-Amz-Executed-Version": "$LATEST", "X-Amzn-Requestid": request_id}
    return {
        "ExecutedVersion": "$LATEST",
        "Payload": payload,
        "SdkHttpMetadata": {"AllHttpHeaders": {k: [v] for k, v in headers.items()}, "HttpHeaders": headers},
        "SdkResponseMetadata": {"RequestId": request_id},
        "StatusCode": 200,
    }


def state_machine_sources(services: Services, functions: dict[str, FunctionSpec], template_dir: Path) -> list[Source]:
    """Every state machine of the template, plus the task queue source when any task runs locally."""
    queue_name = services.runtime_name("sfn-tasks")
    rewriter = TaskRewriter(functions, services.queue_url(queue_name))
    sources: list[Source] = []
    for logical_id, resource in services.stack.of_type(*STATE_MACHINE_TYPES).items():
        props = resource.get("Properties", {})
        # Only what the local state machine needs: Policies, Logging etc. may name resources not provisioned here.
        resolved = services.stack.resolve({k: v for k, v in props.items() if k in _USED_PROPERTIES})
        definition = rewriter.definition(load_definition(services, resolved, template_dir))
        sources.append(StateMachineSource(services, logical_id, definition, resolved))
    if rewriter.rewritten:
        longest = max((fn.timeout for fn in functions.values()), default=3.0)
        sources.insert(0, TaskQueueSource(services, queue_name, sorted(rewriter.targets), longest))
    return sources
