"""Each function's policy allows exactly the AWS calls the test session saw it make."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from infra.iam.policy import function_grants
from infra.iam.report import Report, check, load_allowlist
from infra.local.template import Stack, load_template
from infra.validate import translated
from tests.support import least_privilege

REPORT_PATH = Path(__file__).resolve().parents[2] / "reports" / "least-privilege.json"


def _summary(report: Report) -> str:
    lines = [f"missing: {f} needs {r.action} on {r.resource}" for f, r in report.missing]
    lines += [f"unexercised: {g.function} {g.action} on {g.resource} ({g.source})" for g in report.unexercised]
    lines += [f"unused allow-list entry: {a}" for a in report.unused_allowances]
    return "\n".join(lines)


@pytest.mark.runs_last
def test_policies_allow_every_recorded_call_and_nothing_unexercised(pytestconfig: pytest.Config) -> None:
    recorder = least_privilege.recorder(pytestconfig)
    recorded = recorder.by_principal()
    grants = function_grants(translated("dev"), Stack(load_template(), "http://127.0.0.1"))
    report = check(recorded, grants, load_allowlist())
    REPORT_PATH.parent.mkdir(exist_ok=True)
    REPORT_PATH.write_text(json.dumps(report.as_dict(), indent=2))

    assert not recorder.errors, recorder.errors
    assert not report.missing, _summary(report)
    if pytestconfig.stash.get(least_privilege.COMPLETE_RUN, False):
        # Only the whole suite can show that a permission is never needed.
        assert recorded.get("ApiFunction"), "the API's calls were not attributed to it"
        assert not report.unexercised, _summary(report)
        assert not report.unused_allowances, _summary(report)
