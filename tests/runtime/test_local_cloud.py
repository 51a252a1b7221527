"""The local cloud: its DynamoDB serialisation (on a fake WSGI app that records overlap) and its HTTP server."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3

from infra.local.cloud import LocalCloud, SerializedDynamoDB

ROLE = "arn:aws:iam::123456789012:role/local-test"


def aws(cloud: LocalCloud, service: str) -> Any:
    """A boto3 client of the local cloud."""
    return boto3.client(
        service,  # type: ignore[call-overload]  # a variable service name: no overload of boto3-stubs
        endpoint_url=cloud.endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


class OverlapRecorder:
    def __init__(self) -> None:
        self.active = 0
        self.peak = 0
        self.lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        with self.lock:
            self.active += 1
            self.peak = max(self.peak, self.active)
        time.sleep(0.01)
        with self.lock:
            self.active -= 1
        return [b"ok"]


def run(target: str, n: int = 16) -> int:
    recorder = OverlapRecorder()
    app = SerializedDynamoDB(recorder)
    with ThreadPoolExecutor(max_workers=n) as pool:
        bodies = list(pool.map(lambda _: app({"HTTP_X_AMZ_TARGET": target}, lambda *a: None), range(n)))
    assert all(list(b) == [b"ok"] for b in bodies)
    return recorder.peak


def test_dynamodb_requests_never_overlap() -> None:
    assert run("DynamoDB_20120810.TransactWriteItems") == 1


def test_other_services_stay_concurrent() -> None:
    assert run("AmazonSQS.ReceiveMessage") > 1


def test_observers_see_every_request() -> None:
    seen: list[str] = []
    app = SerializedDynamoDB(lambda e, s: [b""], [lambda environ: seen.append(environ["HTTP_X_AMZ_TARGET"])])
    app({"HTTP_X_AMZ_TARGET": "DynamoDB_20120810.GetItem"}, lambda *a: None)
    assert seen == ["DynamoDB_20120810.GetItem"]


def test_a_client_sends_its_requests_over_one_kept_alive_connection(local_cloud: LocalCloud) -> None:
    ports: list[str] = []
    local_cloud.observers.append(lambda environ: ports.append(str(environ.get("REMOTE_PORT"))))
    try:
        sqs = aws(local_cloud, "sqs")
        for _ in range(5):
            sqs.list_queues()
    finally:
        local_cloud.observers.pop()
    assert len(ports) == 5
    assert len(set(ports)) == 1  # werkzeug's server closed every connection after one response


def test_an_empty_s3_put_expecting_100_continue_is_answered_with_its_metadata(local_cloud: LocalCloud) -> None:
    s3 = aws(local_cloud, "s3")
    s3.create_bucket(Bucket="keep-alive-empty")
    # botocore sends `Expect: 100-continue` with every PUT of S3: an empty one must not wait for a body.
    s3.put_object(Bucket="keep-alive-empty", Key="k", Body=b"", Metadata={"kind": "empty", "my_key": "kept"})
    head = s3.head_object(Bucket="keep-alive-empty", Key="k")
    # Metadata keys as sent, underscores included (waitress drops such headers; the local cloud keeps them).
    assert (head["ContentLength"], head["Metadata"]) == (0, {"kind": "empty", "my_key": "kept"})


def test_executions_of_one_definition_keep_their_own_retry_counts(local_cloud: LocalCloud) -> None:
    # The local cloud builds a definition's program once and every execution runs it: each must still retry as
    # often as its own Retry says, however many run at once.
    failing = {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "Boom"}}}
    retry = [{"ErrorEquals": ["States.ALL"], "MaxAttempts": 2, "IntervalSeconds": 1, "BackoffRate": 1.0}]
    parallel = {"Type": "Parallel", "Branches": [failing], "Retry": retry, "End": True}
    definition = {"StartAt": "P", "States": {"P": parallel}}
    sfn = aws(local_cloud, "stepfunctions")
    machine = sfn.create_state_machine(
        name=f"retries-{time.monotonic_ns()}", definition=json.dumps(definition), roleArn=ROLE
    )["stateMachineArn"]
    executions = [sfn.start_execution(stateMachineArn=machine)["executionArn"] for _ in range(4)]
    deadline = time.monotonic() + 60
    while any(sfn.describe_execution(executionArn=e)["status"] == "RUNNING" for e in executions):
        assert time.monotonic() < deadline, "executions still running after 60 s"
        time.sleep(0.2)
    for execution in executions:
        events = sfn.get_execution_history(executionArn=execution, maxResults=1000)["events"]
        assert sum(e["type"] == "ParallelStateStarted" for e in events) == 3  # the first attempt and 2 retries
        assert sfn.describe_execution(executionArn=execution)["status"] == "FAILED"
