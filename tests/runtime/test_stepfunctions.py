"""Step Functions: the test workflow on moto's interpreter, its Lambda tasks run by the runtime."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from infra.local.cloud import LocalCloud
from infra.local.provision import client
from infra.local.runtime import LocalRuntime
from infra.local.runtime.functions import discover
from infra.local.runtime.sources.stepfunctions import SEND_WITH_TOKEN, TaskRewriter
from infra.local.template import Stack
from tests.conftest import Logs
from tests.runtime.conftest import started_runtime


def _run(stack: Stack, payload: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    sfn = client(stack, "stepfunctions")
    arn = sfn.start_execution(
        stateMachineArn=stack.ref("Workflow"), name=f"t-{uuid.uuid4()}", input=json.dumps(payload)
    )["executionArn"]
    deadline = time.monotonic() + 30
    while (execution := sfn.describe_execution(executionArn=arn))["status"] == "RUNNING":
        assert time.monotonic() < deadline, "execution still running"
        time.sleep(0.2)
    return execution, sfn.get_execution_history(executionArn=arn)["events"]


def test_retry_recovers_a_transient_error_and_the_result_is_lambda_shaped(rt: LocalRuntime, rt_stack: Stack) -> None:
    execution, history = _run(rt_stack, {"order": "o-1", "amount": 50})

    assert execution["status"] == "SUCCEEDED", history
    output = json.loads(execution["output"])
    # Direct ARN task: the handler's result itself; lambda:invoke task: wrapped in {"Payload": ..., "StatusCode": 200}.
    assert output["reservation"] == {"reserved": "o-1", "attempt": 2}
    assert output["payment"] == {"charge": {"charged": 50}, "status": 200}
    assert output["outcome"] == "charged"
    failures = [e["taskFailedEventDetails"] for e in history if e["type"] == "TaskFailed"]
    # moto records each task failure twice in the history; AWS records it once.
    assert {(f["error"], f["cause"]) for f in failures} == {("TransientError", "inventory service busy")}


def test_catch_matches_the_handlers_exception_class_name(rt: LocalRuntime, rt_stack: Stack) -> None:
    execution, history = _run(rt_stack, {"order": "o-2", "amount": 500})

    assert execution["status"] == "SUCCEEDED", history
    output = json.loads(execution["output"])
    assert output["error"] == {"Error": "PaymentDeclined", "Cause": "card declined for 500"}
    assert output["outcome"] == "declined"
    assert "payment" not in output


def test_only_tasks_naming_template_functions_are_rewritten(rt_stack: Stack) -> None:
    functions = discover(rt_stack)
    arn = functions["ProbeCharge"].arn
    definition: dict[str, Any] = {
        "StartAt": "Direct",
        "States": {
            "Direct": {"Type": "Task", "Resource": arn, "Parameters": {"x.$": "$.y"}, "Next": "Fan"},
            "Fan": {
                "Type": "Parallel",
                "Branches": [
                    {
                        "StartAt": "Invoke",
                        "States": {
                            "Invoke": {
                                "Type": "Task",
                                "Resource": "arn:aws:states:::lambda:invoke",
                                "Parameters": {"FunctionName": functions["ProbeEcho"].name, "Payload": {"a": 1}},
                                "End": True,
                            }
                        },
                    }
                ],
                "Next": "Other",
            },
            "Other": {"Type": "Task", "Resource": "arn:aws:states:::sns:publish", "Parameters": {}, "End": True},
        },
    }
    rewriter = TaskRewriter(functions, "http://queue")
    rewritten = rewriter.definition(definition)

    direct = rewritten["States"]["Direct"]
    assert direct["Resource"] == SEND_WITH_TOKEN
    assert direct["Parameters"]["MessageBody"] == {
        "function": "ProbeCharge", "wrap": False, "token.$": "$$.Task.Token", "input": {"x.$": "$.y"},
        "execution.$": "$$.Execution.Id", "state.$": "$$.State.Name",
    }  # fmt: skip
    invoke = rewritten["States"]["Fan"]["Branches"][0]["States"]["Invoke"]
    assert invoke["Parameters"]["MessageBody"]["input"] == {"a": 1}
    assert invoke["Parameters"]["MessageBody"]["wrap"] is True
    assert rewritten["States"]["Other"] == definition["States"]["Other"]
    assert rewriter.rewritten == 2
    assert definition["States"]["Direct"]["Resource"] == arn  # the original is untouched


def test_tasks_and_their_answers_pass_in_process_while_the_runtime_listens(
    rt: LocalRuntime, rt_stack: Stack, local_cloud: LocalCloud
) -> None:
    targets: list[str] = []
    local_cloud.observers.append(observe := lambda environ: targets.append(environ.get("HTTP_X_AMZ_TARGET", "")))
    try:
        execution, history = _run(rt_stack, {"order": "o-3", "amount": 50})
    finally:
        local_cloud.observers.remove(observe)

    assert execution["status"] == "SUCCEEDED", history
    submitted = [json.loads(e["taskSubmittedEventDetails"]["output"]) for e in history if e["type"] == "TaskSubmitted"]
    assert len(submitted) >= 3
    assert all(s["MessageId"] and s["MD5OfMessageBody"] for s in submitted)
    assert not [t for t in targets if t.endswith(("SendTaskSuccess", "SendTaskFailure", "SendMessage"))]


def test_a_task_sent_while_nothing_listens_waits_in_the_queue_for_the_next_start(rt_stack: Stack, logs: Logs) -> None:
    first = started_runtime(rt_stack, logs)
    first.stop()  # the state machine stays; its tasks now go to the queue
    sfn = client(rt_stack, "stepfunctions")
    order = json.dumps({"order": "o-4", "amount": 50})
    arn = sfn.start_execution(stateMachineArn=rt_stack.ref("Workflow"), input=order)
    sqs = client(rt_stack, "sqs")
    queue = sqs.get_queue_url(QueueName=f"{rt_stack.parameter('Service')}-local-sfn-tasks")
    deadline = time.monotonic() + 30
    while not sqs.receive_message(QueueUrl=queue["QueueUrl"], VisibilityTimeout=0).get("Messages"):
        assert time.monotonic() < deadline, "no task message in the queue"
        time.sleep(0.2)

    second = started_runtime(rt_stack, logs)
    try:
        deadline = time.monotonic() + 60
        while (execution := sfn.describe_execution(executionArn=arn["executionArn"]))["status"] == "RUNNING":
            assert time.monotonic() < deadline, "execution still running"
            time.sleep(0.2)
    finally:
        second.stop()
    assert execution["status"] == "SUCCEEDED"
    assert json.loads(execution["output"])["outcome"] == "charged"
