"""X-Ray as deployed: the handler, the route and each boto3 call are subsegments; off, nothing is loaded.

The function runs in a fresh interpreter with Lambda's environment (trace id, daemon address) and a UDP
socket standing in for the X-Ray daemon; AWS itself is a closed port, so each call fails fast but is traced.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
TRACE_ID = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"


@pytest.fixture
def daemon() -> Iterator[socket.socket]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(2)
    yield sock
    sock.close()


def run(code: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "POWERTOOLS", "JWT_", "_X_AMZN"))}
    local = {"AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "y"}
    done = subprocess.run(
        [sys.executable, "-c", code],
        env={**base, **local, **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def in_lambda(daemon: socket.socket, tmp_path: Path) -> dict[str, str]:
    return {
        "AWS_LAMBDA_FUNCTION_NAME": "order-service-api-dev",
        "LAMBDA_TASK_ROOT": str(tmp_path),
        "_X_AMZN_TRACE_ID": TRACE_ID,
        "AWS_XRAY_DAEMON_ADDRESS": f"127.0.0.1:{daemon.getsockname()[1]}",
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9",  # nothing listens: calls fail at once, and are traced
        "AWS_MAX_ATTEMPTS": "1",
    }


def received(daemon: socket.socket) -> list[dict[str, Any]]:
    documents = []
    try:
        while True:
            header, _, body = daemon.recv(65536).decode().partition("\n")
            assert json.loads(header) == {"format": "json", "version": 1}
            documents.append(json.loads(body))
    except TimeoutError:
        return documents


def test_an_api_request_traces_the_handler_the_route_and_each_aws_call(daemon: socket.socket, tmp_path: Path) -> None:
    code = (
        "from infra.local.payloads import http_api_v2, LambdaContext\n"
        "import app.lambda_handler as h\n"
        "print(h.handler(http_api_v2('GET', '/health'), LambdaContext('api'))['statusCode'])\n"
    )
    assert run(code, in_lambda(daemon, tmp_path)).stdout.strip().endswith("503")
    documents = received(daemon)
    names = {d["name"] for d in documents}
    assert {"## handler", "GET /health", "dynamodb"} <= names
    route = next(d for d in documents if d["name"] == "GET /health")
    assert route["annotations"] == {"route": "/health", "status": 503}
    call = next(d for d in documents if d["name"] == "dynamodb")
    assert call["aws"]["operation"] == "DescribeTable"
    assert {d["trace_id"] for d in documents} == {"1-5759e988-bd862e3fe1be46a994272793"}


def test_a_worker_traces_its_handler_and_aws_calls(daemon: socket.socket, tmp_path: Path) -> None:
    code = (
        "import workers.order_reconciler as w\n"
        "event = {'detail': {'name': 'order-1', 'status': 'FAILED'}}\n"
        "try:\n    w.handler(event, None)\nexcept Exception as exc:\n    print(type(exc).__name__)\n"
    )
    run(code, {**in_lambda(daemon, tmp_path), "AWS_LAMBDA_FUNCTION_NAME": "reconcile"})
    names = {d["name"] for d in received(daemon)}
    assert {"## handler", "dynamodb"} <= names


def test_with_tracing_off_nothing_of_x_ray_is_loaded() -> None:
    # Powertools' package __init__ imports its Tracer class (no X-Ray SDK); the SDK itself must stay out.
    code = (
        "import sys, app.lambda_handler, workers.order_workflow, workers.order_reconciler\n"
        "print(sorted(m for m in sys.modules if m.startswith('aws_xray_sdk')))\n"
    )
    assert run(code, {"AWS_ENDPOINT_URL": "http://127.0.0.1:9"}).stdout.strip() == "[]"


def test_the_inits_priming_requests_send_no_trace_and_log_no_x_ray_warning(
    daemon: socket.socket, tmp_path: Path
) -> None:
    code = (
        "import app.lambda_handler as h\n"
        "from app.observability import untraced\n"
        "with untraced():\n    reply = h._asgi(h.priming_event(), None)\n"
        "print(reply['statusCode'])\n"
    )
    env = {k: v for k, v in in_lambda(daemon, tmp_path).items() if k != "_X_AMZN_TRACE_ID"}  # no invocation yet
    done = run(code, {**env, "TRUST_GATEWAY_AUTHORIZER": "true"})
    assert done.stdout.strip().endswith("503")  # it ran, through DynamoDB, which is unreachable here
    assert '"_aws"' not in done.stdout
    assert received(daemon) == []
    assert "segment" not in done.stderr.lower()
