"""The local cloud's DynamoDB serialisation, tested on a fake WSGI app that records overlap."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from infra.local.cloud import SerializedDynamoDB


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
