"""The local cloud: its DynamoDB serialisation (on a fake WSGI app that records overlap) and its HTTP server."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3

from infra.local.cloud import LocalCloud, SerializedDynamoDB


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
