"""`make bench` (development loop): save-to-answer reload time, and start times of `make run`.

Runs `make run`'s entry point in a copy of the project (so the edits never touch the real files),
saves a route 10 times, and times each save until the API answers with the new code. Then stops it
and starts it again over the saved state. Writes docs/devloop.md.
"""

from __future__ import annotations

import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from infra.local.cloud import free_port
from infra.local.paths import PROJECT_ROOT

SAVES = 10
RESTARTS = 3
REQUESTS = 50
INVOKES = 5
OUTPUT = PROJECT_ROOT / "docs" / "devloop.md"
AWS_PORT = free_port()  # one run at a time: each start reuses it


def _copy(root: Path) -> Path:
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for folder in ("app", "workers", "infra"):
        shutil.copytree(PROJECT_ROOT / folder, root / folder, ignore=ignore)
    return root / "app" / "api" / "routes" / "health.py"


def _start(root: Path, state: Path, port: int, *flags: str) -> tuple[subprocess.Popen[bytes], float]:
    """Start `make run`'s entry point (local AWS on AWS_PORT); the process and the seconds until /health answered."""
    started = time.monotonic()
    command = [sys.executable, "-m", "infra.local", "run", "--port", str(port), "--aws-port", str(AWS_PORT)]
    process = subprocess.Popen(
        [*command, "--state-dir", str(state), *flags],
        cwd=root,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "0"},
    )
    _until(f"http://127.0.0.1:{port}/health", lambda body: True)
    return process, time.monotonic() - started


def _until(url: str, accept: object, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            response = httpx.get(url, timeout=5)
            if callable(accept) and accept(response.json()):
                return
        except httpx.TransportError:
            pass
        time.sleep(0.01)
    raise TimeoutError(url)


def _stop(process: subprocess.Popen[bytes]) -> float:
    started = time.monotonic()
    process.send_signal(signal.SIGINT)
    process.wait(timeout=120)
    return time.monotonic() - started


def _reloads(health: Path, port: int) -> list[float]:
    text = health.read_text()
    seconds = []
    for n in range(SAVES):
        time.sleep(1.0)  # a person saves, looks, saves again
        health.write_text(text.replace('"status": "ok" if', f'"status": "save-{n}" if'))
        saved = time.monotonic()
        _until(f"http://127.0.0.1:{port}/health", lambda body, n=n: body.get("status") == f"save-{n}")
        seconds.append(time.monotonic() - saved)
    health.write_text(text)
    return seconds


def _invokes(root: Path, console: int) -> list[float]:
    """Seconds per `make invoke FN=ApiFunction` against the running stack: the whole command, as a person waits."""
    command = [sys.executable, "-m", "infra.local", "invoke", "ApiFunction", "--aws-port", str(AWS_PORT)]
    seconds = []
    for _ in range(INVOKES):
        started = time.monotonic()
        subprocess.run([*command, "--console-port", str(console)], cwd=root, capture_output=True, check=True)
        seconds.append(time.monotonic() - started)
    return seconds


def _request_ms(root: Path, api: str, invokes: list[float] | None = None) -> list[float]:
    """Milliseconds per authenticated GET /users/{id}, with API=uvicorn or API=lambda (and `make invoke`'s)."""
    with tempfile.TemporaryDirectory() as state:
        port, console = free_port(), free_port()
        process, _ = _start(root, Path(state), port, "--api", api, "--console-port", str(console))
        try:
            mint = ["token", "--sub", "ada", "--email", "ada@example.com", "--aws-port", str(AWS_PORT)]
            token = subprocess.run(
                [sys.executable, "-m", "infra.local", *mint],
                cwd=root,
                capture_output=True,
                text=True,
                check=True,
            ).stdout.strip()
            headers = {"authorization": f"Bearer {token}"}
            base = f"http://127.0.0.1:{port}"
            with httpx.Client(headers=headers, timeout=30) as http:
                http.post(f"{base}/users", json={"name": "Ada", "email": "ada@example.com"}).raise_for_status()
                http.get(f"{base}/users/ada")  # the first request pays the workers' init
                times = []
                for _ in range(REQUESTS):
                    started = time.perf_counter()
                    http.get(f"{base}/users/ada").raise_for_status()
                    times.append((time.perf_counter() - started) * 1000)
            if invokes is not None:
                invokes.extend(_invokes(root, console))
        finally:
            _stop(process)
    return times


def measure() -> dict[str, list[float]]:
    """Every timing, in seconds."""
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch) / "project"
        health = _copy(root)
        state, port = Path(scratch) / "state", free_port()
        process, first = _start(root, state, port)
        reloads = _reloads(health, port)
        stops = [_stop(process)]
        restarts = []
        for _ in range(RESTARTS):
            process, seconds = _start(root, state, port)
            restarts.append(seconds)
            stops.append(_stop(process))
        invokes: list[float] = []
        latency = {api: _request_ms(root, api, invokes if api == "uvicorn" else None) for api in ("uvicorn", "lambda")}
    return {
        "first start (empty state)": [first],
        "reload": reloads,
        "restart": restarts,
        "stop": stops,
        "GET /users/{id}, API=uvicorn (ms)": latency["uvicorn"],
        "GET /users/{id}, API=lambda (ms)": latency["lambda"],
        "make invoke FN=ApiFunction, against the running stack": invokes,
    }


def render(timings: dict[str, list[float]]) -> str:
    """docs/devloop.md."""
    unit = {name: "" if name.endswith("(ms)") else " s" for name in timings}
    rows = [
        f"| {name} | {len(values)} | {statistics.median(values):.2f}{unit[name]} | {max(values):.2f}{unit[name]} |"
        for name, values in timings.items()
    ]
    return "\n".join(
        [
            "# The development loop, measured",
            "",
            "Generated by `make bench` (`python -m infra.bench.devloop`) on a 2-core machine. *reload*: from",
            "saving `app/api/routes/health.py` to the API answering with the new code. *restart*: from",
            "starting `make run` over saved state to `/health` answering (the second and later starts).",
            "*API=lambda*: each request through AuthorizerFunction (cached per token for 300 s, as the HTTP",
            "API caches) and ApiFunction's Lambda handler in its warm worker, against uvicorn serving the app.",
            "*make invoke*: the whole command (Python's start included), handed to the running stack's warm",
            "function through the console's Lambda Invoke API; the goal is under 1 s.",
            "",
            "| What | Runs | Median | Max |",
            "|---|---:|---:|---:|",
            *rows,
            "",
        ]
    )


def main() -> None:
    """Measure and write docs/devloop.md."""
    text = render(measure())
    OUTPUT.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
