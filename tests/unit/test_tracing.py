"""Tracing as deployed (decision 0013): Lambda records the segments; the trace header rides on every AWS request.

A handler runs in a fresh interpreter with Lambda's environment and its invocation's trace id, against a small
HTTP server standing in for AWS that records the headers of each request it receives.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TRACE_ID = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"


class Recorder(BaseHTTPRequestHandler):
    """Answers every request with a 400 that botocore does not retry, and keeps its trace header."""

    seen: list[str | None] = []

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length", 0)))
        Recorder.seen.append(self.headers.get("X-Amzn-Trace-Id"))
        body = b'{"__type": "com.amazon.coral.validate#ValidationException", "message": "stand-in"}'
        self.send_response(400)
        self.send_header("content-type", "application/x-amz-json-1.0")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture
def aws() -> Iterator[str]:
    Recorder.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def run(code: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "POWERTOOLS", "JWT_", "_X_AMZN"))}
    local = {"AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "y", "AWS_MAX_ATTEMPTS": "1"}
    command = [sys.executable, "-c", code]
    done = subprocess.run(command, env={**base, **local, **env}, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    return done


WORKER = (
    "import sys, workers.order_workflow as w\n"
    "try:\n    w.validate_order({'orderId': 'o-1'}, None)\nexcept Exception as exc:\n    print(type(exc).__name__)\n"
    "print(sorted(m for m in sys.modules if m.startswith(('aws_xray_sdk', 'opentelemetry.sdk'))))\n"
)


def test_a_function_passes_its_invocation_s_trace_header_on_with_every_aws_request(aws: str, tmp_path: Path) -> None:
    lambda_env = {"AWS_LAMBDA_FUNCTION_NAME": "validate", "LAMBDA_TASK_ROOT": str(tmp_path), "AWS_ENDPOINT_URL": aws}
    done = run(WORKER, {**lambda_env, "_X_AMZN_TRACE_ID": TRACE_ID})
    assert done.stdout.splitlines()[-1] == "[]"  # no tracing SDK was loaded
    assert Recorder.seen  # the task read the order
    assert set(Recorder.seen) == {TRACE_ID}  # SQS, Step Functions and EventBridge carry it to the next function


def test_outside_an_invocation_no_trace_header_is_sent(aws: str, tmp_path: Path) -> None:
    run(WORKER, {"AWS_ENDPOINT_URL": aws})
    assert Recorder.seen
    assert set(Recorder.seen) == {None}


def test_the_image_ships_no_tracing_sdk() -> None:
    pinned = {line.split("==")[0] for line in (ROOT / "requirements.txt").read_text().splitlines() if "==" in line}
    assert "aws-lambda-powertools" in pinned
    assert not pinned & {"aws-xray-sdk", "opentelemetry-sdk", "aws-opentelemetry-distro"}  # fastapi needs only the API
