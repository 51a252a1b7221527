"""`make run` as a developer uses it: start, serve, keep the data across restarts, restart a dead API, stop."""

from __future__ import annotations

import os
import signal
import socket
import time
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest

from tests.support.devrun import DEADLINE, DevRun, create_user, get_user


@pytest.mark.slow
def test_run_serves_the_api_and_the_local_aws_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    run = DevRun(tmp_path, "--param", "WorkflowType=STANDARD").ready()
    try:
        health = httpx.get(f"{run.base}/health", timeout=30)
        assert (health.status_code, health.json()["checks"]["dynamodb"]) == (200, "ok")
        assert "order-service-users-dev" in local_aws(run, "dynamodb").list_tables()["TableNames"]
        machines = local_aws(run, "stepfunctions").list_state_machines()["stateMachines"]
        assert {m["type"] for m in machines} == {"STANDARD"}  # PARAMS= reached the stack
        console = run.wait_for_line("Console ").split()[1]
        assert httpx.get(console, timeout=30).status_code == 200
        assert "started by its first event: WARM=0" in run.output()  # DevRun starts make run with WARM=0
        assert workers_of(run) == []  # so no function worker runs before its first event
    finally:
        code = run.stop()
    assert code == 0, run.output()[-3000:]
    assert f"{run.base}/docs" in run.output()


def local_aws(run: DevRun, service: str) -> Any:
    """A boto3 client of the run's local AWS."""
    factory: Any = boto3.client
    return factory(
        service,
        endpoint_url=f"http://127.0.0.1:{run.aws_port}",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def workers_of(run: DevRun) -> list[int]:
    """The function workers (runtime bootstrap processes) in `make run`'s process group."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            command = (entry / "cmdline").read_bytes()
            group = os.getpgid(int(entry.name))
        except (OSError, ValueError):
            continue
        if group == run.process.pid and b"infra.local.runtime.bootstrap" in command:
            found.append(int(entry.name))
    return found


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
    api = api_processes(run)
    assert len(api) == 2  # API_WORKERS' default
    run.crash()  # while the snapshots are being written, every 2 s
    crashed_at = time.monotonic()
    # The API processes run in sessions of their own, out of reach of the kill: they notice and stop.
    while any(alive(pid) for pid in api):
        assert time.monotonic() - crashed_at < 120, "API processes outlived the supervisor"
        time.sleep(0.2)

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
    assert code == 2, run.output()[-3000:]
    assert "starting the local AWS" not in run.output()  # answered before anything starts
    assert "CleanupFunction" in run.output()
    assert "ValidateOrderFunction" in run.output()


def test_a_parameter_the_template_would_refuse_is_answered_in_one_line(tmp_path: Path) -> None:
    run = DevRun(tmp_path, "--param", "WorkflowType=FAST")
    assert run.exited() == 2, run.output()[-3000:]
    assert "starting the local AWS" not in run.output()
    assert "PARAMS: WorkflowType must be one of EXPRESS, STANDARD, not 'FAST'" in run.output()
    assert "Traceback" not in run.output()


def test_ctrl_c_during_the_start_stops_cleanly(tmp_path: Path) -> None:
    run = DevRun(tmp_path)
    run.wait_for_line("provisioned")

    code = run.stop()

    assert code == 0, run.output()[-3000:]
    assert "Traceback" not in run.output()
    assert "stopped; saved" in run.output()


def api_processes(run: DevRun) -> list[int]:
    """The pids of the API processes `make run` started (its children, in a session of their own)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().split(b"\0")
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if b"infra.local.api_server" in command and parent == run.process.pid:
            found.append(int(entry.name))
    return found


def api_process(run: DevRun) -> int:
    """The pid of one API process `make run` started."""
    found = api_processes(run)
    assert found, "no API process"
    return found[0]


def alive(pid: int) -> bool:
    """True while the process exists (and is not a zombie)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


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
