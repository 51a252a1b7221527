"""`make run` driven as a developer drives it: a process group, its output, its API and its tokens."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

from infra.local.cloud import free_port
from infra.local.paths import PROJECT_ROOT
from tests.support.parameters import TEST_PARAMETERS

DEADLINE = 90


class DevRun:
    """`python -m infra.local run` in its own process group, its output collected line by line."""

    def __init__(self, state_dir: Path, *flags: str, root: Path = PROJECT_ROOT, port: int = 0) -> None:
        self.port, self.aws_port = port or free_port(), free_port()
        self.root = root
        self.lines: list[str] = []
        command = [sys.executable, "-m", "infra.local", "run", "--port", str(self.port)]
        command += ["--aws-port", str(self.aws_port), "--state-dir", str(state_dir), *flags]
        if "--console-port" not in flags:
            command += ["--console-port", "0"]  # any free port: tests run side by side, and beside a developer's
        # Workers start with their first event: a test pays for the ones it reaches, not all thirteen.
        command += ["--no-warm"]
        command += [arg for name, value in TEST_PARAMETERS.items() for arg in ("--param", f"{name}={value}")]
        self.process = subprocess.Popen(
            command,
            cwd=root,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            start_new_session=True,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        return "\n".join(self.lines)

    def wait_for_line(self, text: str, after: int = 0) -> str:
        deadline = time.monotonic() + DEADLINE
        while True:
            found = [line for line in self.lines[after:] if text in line]
            if found:
                return found[0]
            assert time.monotonic() < deadline, f"no line with {text!r}:\n{self.output()[-3000:]}"
            assert self.process.poll() is None, f"exited {self.process.returncode}:\n{self.output()[-3000:]}"
            time.sleep(0.1)

    def ready(self) -> DevRun:
        """Wait for the banner: it is printed only once the API answers."""
        self.wait_for_line("Docs ")
        return self

    def token(self, sub: str = "ada", email: str = "ada@example.com", role: str = "user") -> str:
        command = [sys.executable, "-m", "infra.local", "token", "--sub", sub, "--email", email, "--role", role]
        done = subprocess.run(
            [*command, "--aws-port", str(self.aws_port)], cwd=self.root, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    def exited(self) -> int:
        """Wait for the process to end on its own; the exit code."""
        code = self.process.wait(timeout=DEADLINE)
        self._reader.join(timeout=10)
        if self.process.stdout is not None:
            self.process.stdout.close()
        return code

    def stop(self) -> int:
        """Ctrl-C, as a person stops it; the exit code."""
        self.process.send_signal(signal.SIGINT)
        return self.exited()

    def crash(self) -> None:
        """kill -9 of the whole process group: nothing gets to clean up."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.exited()


def create_user(run: DevRun, token: str, user_id: str = "ada", admin: bool = False) -> httpx.Response:
    body = {"name": user_id.title(), "email": f"{user_id}@example.com"} | ({"id": user_id} if admin else {})
    return httpx.post(f"{run.base}/users", json=body, headers={"authorization": f"Bearer {token}"}, timeout=30)


def get_user(run: DevRun, token: str, user_id: str = "ada") -> httpx.Response:
    return httpx.get(f"{run.base}/users/{user_id}", headers={"authorization": f"Bearer {token}"}, timeout=30)


def wait_status(run: DevRun, token: str, order_id: str, status: str) -> dict[str, object]:
    """Poll the order until it has `status`; its last representation."""
    deadline = time.monotonic() + DEADLINE
    while True:
        order = httpx.get(f"{run.base}/orders/{order_id}", headers={"authorization": f"Bearer {token}"}, timeout=30)
        if order.json().get("status") == status:
            return dict(order.json())
        assert time.monotonic() < deadline, (order.json(), run.output()[-3000:])
        time.sleep(0.3)
