"""`make run` as a developer uses it: start, serve, reload on save, keep the data across restarts, stop."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import boto3
import httpx
import pytest

from infra.local.cloud import free_port
from infra.local.paths import PROJECT_ROOT

DEADLINE = 90


class DevRun:
    """`python -m infra.local run` in its own process group, its output collected line by line."""

    def __init__(self, state_dir: Path, *flags: str, root: Path = PROJECT_ROOT, port: int = 0) -> None:
        self.port, self.aws_port = port or free_port(), free_port()
        self.root = root
        self.lines: list[str] = []
        command = [sys.executable, "-m", "infra.local", "run", "--port", str(self.port)]
        command += ["--aws-port", str(self.aws_port), "--state-dir", str(state_dir), *flags]
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


@pytest.mark.slow
def test_run_serves_the_api_and_the_local_aws_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    run = DevRun(tmp_path).ready()
    try:
        health = httpx.get(f"{run.base}/health", timeout=30)
        assert (health.status_code, health.json()["checks"]["dynamodb"]) == (200, "ok")
        dynamodb = boto3.client(
            "dynamodb",
            endpoint_url=f"http://127.0.0.1:{run.aws_port}",
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        assert "order-service-users-dev" in dynamodb.list_tables()["TableNames"]
    finally:
        code = run.stop()
    assert code == 0, run.output()[-3000:]
    assert f"{run.base}/docs" in run.output()


@pytest.mark.slow
def test_a_restart_keeps_the_data_and_the_tokens_and_fresh_starts_empty(tmp_path: Path) -> None:
    first = DevRun(tmp_path).ready()
    token = first.token()
    assert create_user(first, token).status_code == 201
    assert first.stop() == 0

    second = DevRun(tmp_path).ready()
    try:
        kept = get_user(second, token)  # the token issued before the restart
        assert (kept.status_code, kept.json()["email"]) == (200, "ada@example.com")
    finally:
        assert second.stop() == 0

    fresh = DevRun(tmp_path, "--fresh").ready()
    try:
        assert "FRESH=1: starting empty" in fresh.output()
        admin = fresh.token(sub="root", email="root@example.com", role="admin")
        assert get_user(fresh, admin).status_code == 404
    finally:
        fresh.stop()


@pytest.mark.slow
def test_a_crash_mid_write_loses_at_most_the_last_seconds_and_the_state_loads(tmp_path: Path) -> None:
    run = DevRun(tmp_path).ready()
    admin = run.token(sub="root", email="root@example.com", role="admin")
    created: list[tuple[str, float]] = []
    writing_until = time.monotonic() + 8  # four snapshot intervals of steady writes
    while time.monotonic() < writing_until:
        user = f"u{len(created)}"
        assert create_user(run, admin, user, admin=True).status_code == 201
        created.append((user, time.monotonic()))
        time.sleep(0.05)
    run.crash()  # while the snapshots are being written, every 2 s
    crashed_at = time.monotonic()

    again = DevRun(tmp_path).ready()
    try:
        assert "restored" in again.output()
        settled = [u for u, at in created if crashed_at - at > 5]  # older than two snapshot intervals and more
        assert settled, "the run was too fast to tell"
        assert [u for u in settled if get_user(again, admin, u).status_code != 200] == []
    finally:
        again.stop()


def test_a_busy_api_port_exits_non_zero_before_anything_starts(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        run = DevRun(tmp_path, port=taken.getsockname()[1])
        code = run.exited()
    assert code == 2
    assert "is already in use" in run.output()
    assert "starting the local AWS" not in run.output()


def test_an_unknown_debug_function_lists_the_functions(tmp_path: Path) -> None:
    run = DevRun(tmp_path, "--debug", "NoSuchFunction")
    code = run.exited()
    assert code == 2
    assert "CleanupFunction" in run.output()
    assert "ValidateOrderFunction" in run.output()


@pytest.fixture(scope="module")
def project_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the project to edit, as a developer edits theirs."""
    root = tmp_path_factory.mktemp("project")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for folder in ("app", "workers", "infra"):
        shutil.copytree(PROJECT_ROOT / folder, root / folder, ignore=ignore)
    return root


@pytest.fixture(scope="module")
def editing(project_copy: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevRun]:
    run = DevRun(tmp_path_factory.mktemp("state"), root=project_copy).ready()
    yield run
    run.stop()


def save(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


@pytest.mark.slow
def test_saving_a_route_reloads_the_api_and_keeps_the_data(editing: DevRun, project_copy: Path) -> None:
    token = editing.token()
    assert create_user(editing, token).status_code == 201
    health = project_copy / "app" / "api" / "routes" / "health.py"

    save(health, '"status": "ok" if', '"status": "edited" if')

    deadline = time.monotonic() + DEADLINE
    while httpx.get(f"{editing.base}/health", timeout=30).json()["status"] != "edited":
        assert time.monotonic() < deadline, editing.output()[-3000:]
        time.sleep(0.1)
    assert get_user(editing, token).status_code == 200  # the local cloud and its data were untouched
    editing.wait_for_line("→ reloaded ApiFunction")


@pytest.mark.slow
def test_a_broken_save_keeps_serving_and_the_fix_reloads(editing: DevRun, project_copy: Path) -> None:
    health = project_copy / "app" / "api" / "routes" / "health.py"
    good = health.read_text()
    mark = len(editing.lines)

    health.write_text(good + "\nbroken = (\n")

    line = editing.wait_for_line("SyntaxError", after=mark)
    assert "app/api/routes/health.py:" in line
    assert "the last good code keeps serving" in line
    assert httpx.get(f"{editing.base}/health", timeout=30).status_code == 200
    mark = len(editing.lines)
    health.write_text(good.replace('"status": "', '"status": "fixed-'))
    editing.wait_for_line("→ reloaded ApiFunction", after=mark)
    assert httpx.get(f"{editing.base}/health", timeout=30).json()["status"].startswith("fixed-")


def test_ctrl_c_during_the_start_stops_cleanly(tmp_path: Path) -> None:
    run = DevRun(tmp_path)
    run.wait_for_line("provisioned")

    code = run.stop()

    assert code == 0, run.output()[-3000:]
    assert "Traceback" not in run.output()
    assert "stopped; saved" in run.output()


def api_process(run: DevRun) -> int:
    """The pid of the API process `make run` started (its child, in a session of its own)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().split(b"\0")
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if b"infra.local.api_server" in command and parent == run.process.pid:
            return int(entry.name)
    raise AssertionError("no API process")


@pytest.mark.slow
def test_a_dead_api_process_is_restarted_and_the_data_stays(tmp_path: Path) -> None:
    run = DevRun(tmp_path).ready()
    try:
        token = run.token()
        assert create_user(run, token).status_code == 201
        os.kill(api_process(run), signal.SIGKILL)

        run.wait_for_line("the API process exited")
        deadline = time.monotonic() + DEADLINE
        while True:
            try:
                if get_user(run, token).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, run.output()[-3000:]
            time.sleep(0.2)
    finally:
        assert run.stop() == 0


def wait_status(run: DevRun, token: str, order_id: str, status: str) -> dict[str, object]:
    deadline = time.monotonic() + DEADLINE
    while True:
        order = httpx.get(f"{run.base}/orders/{order_id}", headers={"authorization": f"Bearer {token}"}, timeout=30)
        if order.json().get("status") == status:
            return dict(order.json())
        assert time.monotonic() < deadline, (order.json(), run.output()[-3000:])
        time.sleep(0.3)


@pytest.mark.slow
def test_the_walk_through_passes_through_the_authorizer_and_mangum(tmp_path: Path) -> None:
    run = DevRun(tmp_path, "--api", "lambda").ready()
    try:
        token = run.token()
        bearer = {"authorization": f"Bearer {token}"}
        assert httpx.get(f"{run.base}/users/ada", timeout=30).status_code == 401  # no token: the edge answers
        assert httpx.get(f"{run.base}/users/ada", headers={"authorization": "Bearer x"}, timeout=30).status_code == 403
        assert create_user(run, token).status_code == 201  # 1. the user
        placed = httpx.post(  # 2. an order: 202 + Location
            f"{run.base}/orders",
            headers={**bearer, "idempotency-key": "first-order"},
            json={"items": [{"productId": "coffee-mug", "quantity": 2}]},
            timeout=30,
        )
        assert placed.status_code == 202, placed.text
        assert placed.headers["location"] == f"/orders/{placed.json()['id']}"
        wait_status(run, token, placed.json()["id"], "CONFIRMED")  # 3. through the queue and the workflow
        listed = httpx.get(f"{run.base}/users/ada/orders", params={"limit": 10}, headers=bearer, timeout=30)
        assert [o["id"] for o in listed.json()["items"]] == [placed.json()["id"]]
        short = httpx.post(
            f"{run.base}/orders", headers=bearer, json={"items": [{"productId": "limited-print", "quantity": 2}]}
        )
        failed = wait_status(run, token, short.json()["id"], "FAILED")
        assert failed["reason"] == "InsufficientInventory"
        json_type = {**bearer, "content-type": "application/json"}
        bad = httpx.post(f"{run.base}/orders", headers=json_type, content=b"{", timeout=30)
        assert (bad.status_code, bad.headers["content-type"]) == (400, "application/problem+json")
        assert "AuthorizerFunction" in run.output()  # the edge really ran
    finally:
        assert run.stop() == 0
