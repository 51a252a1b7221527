"""`python -m infra.local invoke` (behind `make invoke`), run as a user runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from infra.local.cloud import LocalCloud, free_port
from infra.local.runtime.invoke import invoke_command
from infra.local.template import Stack
from tests.runtime.conftest import TEMPLATE, results


def test_invoke_without_a_running_cloud_provisions_a_fresh_one_and_prints_result_and_logs(tmp_path: Path) -> None:
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"orderId": "o-9"}))
    command = [sys.executable, "-m", "infra.local", "invoke", "ProbeEcho", "--event", str(event)]
    command += ["--template", str(TEMPLATE), "--aws-port", str(free_port())]

    done = subprocess.run(command, capture_output=True, text=True, timeout=60, env=dict(os.environ))

    assert done.returncode == 0, done.stderr
    assert "using a fresh one" in done.stderr
    result = json.loads(done.stdout)
    assert result["event"] == {"orderId": "o-9"}
    assert result["greeting"] == "overridden"
    assert "[ProbeEcho] echo handler says hi" in done.stderr


def test_invoke_a_scheduled_function_defaults_to_the_scheduled_event(
    local_cloud: LocalCloud, rt_stack: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    status = invoke_command("ProbeSchedule", None, "127.0.0.1", local_cloud.port, TEMPLATE)
    plain = invoke_command("ProbeSlow", None, "127.0.0.1", local_cloud.port, TEMPLATE)

    assert (status, plain) == (0, 0)
    (report,) = results(rt_stack, 1)
    assert report["event"]["detail-type"] == "Scheduled Event"
    assert report["event"]["source"] == "aws.events"
    assert '"calls": 1' in capsys.readouterr().out  # ProbeSlow's result, with the default empty event


def test_invoke_reports_errors_with_a_nonzero_status(
    local_cloud: LocalCloud, rt_stack: Stack, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"raise": "bad input"}))

    failed = invoke_command("ProbeEcho", str(event), "127.0.0.1", local_cloud.port, TEMPLATE)
    printed = json.loads(capsys.readouterr().out)
    unknown = invoke_command("NoSuchFunction", None, "127.0.0.1", local_cloud.port, TEMPLATE)

    assert failed == 1
    assert printed["errorType"] == "ValueError"
    assert printed["errorMessage"] == "bad input"
    assert unknown == 2
