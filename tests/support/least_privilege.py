"""pytest glue for the least-privilege check: one recorder per session, its test runs last."""

from __future__ import annotations

from pathlib import Path

import pytest

from infra.iam.recorder import CallRecorder
from infra.local.template import ACCOUNT_ID

RUNS_LAST = "runs_last"
COMPLETE_RUN = pytest.StashKey[bool]()
RECORDER = pytest.StashKey[CallRecorder]()
TESTS_DIR = Path(__file__).resolve().parents[1]


def recorder(config: pytest.Config) -> CallRecorder:
    """The session's recorder of AWS calls, created on first use."""
    if RECORDER not in config.stash:
        config.stash[RECORDER] = CallRecorder(ACCOUNT_ID)
    return config.stash[RECORDER]


def order_last(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Move `runs_last` tests to the end; note whether the whole suite is selected."""
    last = [item for item in items if item.get_closest_marker(RUNS_LAST)]
    items[:] = [item for item in items if not item.get_closest_marker(RUNS_LAST)] + last
    roots = {TESTS_DIR, TESTS_DIR.parent}
    whole = all(Path(arg.split("::")[0]).resolve() in roots for arg in config.args)
    filtered = bool(config.option.keyword or config.option.markexpr or config.option.deselect)
    config.stash[COMPLETE_RUN] = whole and not filtered and COMPLETE_RUN not in config.stash


def deselected(items: list[pytest.Item]) -> None:
    """Any deselection makes the run partial."""
    if items:
        items[0].config.stash[COMPLETE_RUN] = False
