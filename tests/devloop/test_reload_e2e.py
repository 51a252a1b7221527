"""Reload on save, end to end: `make run` in a copy of the project, edited as a developer edits theirs."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from infra.local.paths import PROJECT_ROOT
from tests.support.devrun import DEADLINE, DevRun, create_user, get_user


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
