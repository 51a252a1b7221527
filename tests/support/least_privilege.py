"""The least-privilege check: each function's policy allows exactly the AWS calls the suite saw it make.

Every session process records the calls its local cloud receives (attributed to a function by its
user-agent app id). Like coverage's fail-under, the check runs once the whole session is over: in the
only process, or in pytest-xdist's controller after merging what each worker recorded. Only a complete
run (the whole suite, nothing deselected, nothing failed) can show a permission is never needed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from infra.iam.actions import IamRequest
from infra.iam.policy import function_grants
from infra.iam.recorder import CallRecorder
from infra.iam.report import Report, check, load_allowlist
from infra.local.template import ACCOUNT_ID, Stack, load_template
from infra.validate import translated

COMPLETE_RUN = pytest.StashKey[bool]()
RECORDER = pytest.StashKey[CallRecorder]()
MERGED = pytest.StashKey[dict[str, Any]]()
PROBLEMS = pytest.StashKey[list[str]]()
TESTS_DIR = Path(__file__).resolve().parents[1]
REPORT_PATH = TESTS_DIR.parent / "reports" / "least-privilege.json"


def recorder(config: pytest.Config) -> CallRecorder:
    """The session's recorder of AWS calls, created on first use."""
    if RECORDER not in config.stash:
        config.stash[RECORDER] = CallRecorder(ACCOUNT_ID)
    return config.stash[RECORDER]


def note_selection(config: pytest.Config) -> None:
    """Whether the whole suite was selected (a worker or the only process, after collection)."""
    roots = {TESTS_DIR, TESTS_DIR.parent}
    whole = all(Path(arg.split("::")[0]).resolve() in roots for arg in config.args)
    filtered = bool(config.option.keyword or config.option.markexpr or config.option.deselect)
    config.stash[COMPLETE_RUN] = whole and not filtered and COMPLETE_RUN not in config.stash


def deselected(items: list[pytest.Item]) -> None:
    """Any deselection makes the run partial."""
    if items:
        items[0].config.stash[COMPLETE_RUN] = False


def export(session: pytest.Session) -> dict[str, Any]:
    """This process's recording, in a form pytest-xdist can carry to the controller."""
    config = session.config
    calls = recorder(config).by_principal() if RECORDER in config.stash else {}
    return {
        "recorded": RECORDER in config.stash,
        "calls": [[p, r.action, r.resource] for p, requests in calls.items() for r in requests],
        "errors": recorder(config).errors if RECORDER in config.stash else [],
        "complete": config.stash.get(COMPLETE_RUN, False) and session.testsfailed == 0,
    }


def merge(config: pytest.Config, output: dict[str, Any]) -> None:
    """Add a worker's recording to the controller's."""
    merged = config.stash.setdefault(MERGED, {"recorded": False, "calls": [], "errors": [], "complete": True})
    merged["recorded"] |= bool(output.get("recorded"))
    merged["calls"] += output.get("calls", [])
    merged["errors"] += output.get("errors", [])
    merged["complete"] &= bool(output.get("complete"))  # a worker that died without a report: partial


def verify(config: pytest.Config, recording: dict[str, Any]) -> list[str]:
    """The problems with the template's policies; the report is written to reports/."""
    if not recording["recorded"]:
        return []  # no test used the local cloud: nothing to say about permissions
    recorded: dict[str, set[IamRequest]] = {}
    for principal, action, resource in recording["calls"]:
        recorded.setdefault(principal, set()).add(IamRequest(action, resource))
    grants = function_grants(translated("dev"), Stack(load_template(), "http://127.0.0.1"))
    report = check(recorded, grants, load_allowlist())
    REPORT_PATH.parent.mkdir(exist_ok=True)
    REPORT_PATH.write_text(json.dumps(report.as_dict(), indent=2))
    problems = [f"recording error: {e}" for e in recording["errors"]] + _missing(report)
    if recording["complete"]:
        if not recorded.get("ApiFunction"):
            problems.append("the API's calls were not attributed to it")
        problems += _unneeded(report)
    config.stash[PROBLEMS] = problems
    return problems


def _missing(report: Report) -> list[str]:
    return [f"missing: {f} needs {r.action} on {r.resource}" for f, r in report.missing]


def _unneeded(report: Report) -> list[str]:
    lines = [f"unexercised: {g.function} {g.action} on {g.resource} ({g.source})" for g in report.unexercised]
    return lines + [f"unused allow-list entry: {a}" for a in report.unused_allowances]


def summary(reporter: Any, config: pytest.Config) -> None:
    """The check's verdict at the end of the terminal report."""
    problems = config.stash.get(PROBLEMS, None)
    if problems:
        reporter.section("least privilege: the template's policies do not match the recorded AWS calls", red=True)
        for line in problems:
            reporter.line(line)
