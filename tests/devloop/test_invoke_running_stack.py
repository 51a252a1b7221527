"""`make invoke` against a running `make run`: through the console's Lambda Invoke API, to the warm function,
without importing moto; each sample works on the stack's own data, and says what to do where it cannot."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from infra.local.cloud import free_port
from infra.local.paths import PROJECT_ROOT
from tests.support.devrun import DevRun, create_user


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[DevRun, int]]:
    console = free_port()
    run = DevRun(tmp_path_factory.mktemp("state"), "--console-port", str(console)).ready()
    yield run, console
    assert run.stop() == 0


def invoke(run: DevRun, console: int, function: str, event: Path | None = None) -> subprocess.CompletedProcess[str]:
    """`make invoke FN=function`, in a fresh interpreter that reports whether moto was imported."""
    args = [function, "--aws-port", str(run.aws_port), "--console-port", str(console)]
    args += ["--event", str(event)] if event else []
    code = (
        "import sys\nfrom infra.local.__main__ import main\n"
        f"rc = main(['invoke', *{args!r}])\n"
        "print('MOTO' if 'moto' in sys.modules else 'NO-MOTO', file=sys.stderr)\nsys.exit(rc)\n"
    )
    return subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120)


@pytest.mark.slow
def test_a_task_sample_needs_an_order_and_says_so_in_one_line(stack: tuple[DevRun, int]) -> None:
    run, console = stack
    done = invoke(run, console, "ValidateOrderFunction")
    assert done.returncode == 1
    assert "stackTrace" not in done.stdout  # the log lines carry it; the answer is one short object
    hints = [line for line in done.stderr.splitlines() if line.startswith("hint:")]
    assert len(hints) == 1
    assert "place one" in hints[0]
    assert done.stderr.strip().endswith("NO-MOTO")


@pytest.mark.slow
def test_invoke_reaches_the_warm_function_with_the_newest_order(stack: tuple[DevRun, int], tmp_path: Path) -> None:
    run, console = stack
    token = run.token()
    assert create_user(run, token).status_code == 201
    bearer = {"authorization": f"Bearer {token}"}
    placed = httpx.post(
        f"{run.base}/orders", headers=bearer, json={"items": [{"productId": "coffee-mug", "quantity": 1}]}, timeout=30
    ).json()
    done = invoke(run, console, "ValidateOrderFunction")
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads(done.stdout)["orderId"] == placed["id"]
    assert done.stderr.strip().endswith("NO-MOTO")
    event = tmp_path / "e.json"
    event.write_text(json.dumps({"detail": {}, "source": "aws.events", "detail-type": "Scheduled Event"}))
    cleanup = invoke(run, console, "CleanupFunction", event)
    assert cleanup.returncode == 0, cleanup.stderr
    assert "CleanupFunction" in run.output()  # it ran in make run's own worker, whose lines make run prints


@pytest.mark.slow
def test_the_invoke_api_answers_as_lambda_does(stack: tuple[DevRun, int]) -> None:
    _, console = stack
    base = f"http://127.0.0.1:{console}/2015-03-31/functions"
    ok = httpx.post(f"{base}/ApiFunction/invocations", timeout=60)
    assert ok.status_code == 200
    assert "X-Amz-Function-Error" not in ok.headers
    assert ok.json()["statusCode"] in (200, 503)
    failed = httpx.post(f"{base}/ValidateOrderFunction/invocations", json={"orderId": "nope"}, timeout=60)
    assert (failed.status_code, failed.headers["x-amz-function-error"]) == (200, "Unhandled")
    assert failed.json()["errorType"] == "ValidationError"
    unknown = httpx.post(f"{base}/NoSuchFunction/invocations", timeout=60)
    assert (unknown.status_code, unknown.headers["x-amzn-errortype"]) == (404, "ResourceNotFoundException")
    bad = httpx.post(f"{base}/ApiFunction/invocations", content=b"{", timeout=60)
    assert (bad.status_code, bad.headers["x-amzn-errortype"]) == (400, "InvalidRequestContentException")
