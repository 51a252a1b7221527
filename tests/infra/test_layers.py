"""The import-linter contracts hold today, and fail when a layer reaches where it must not."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT = Path(sys.executable).parent / "lint-imports"


def lint(tree: Path) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(tree)}
    return subprocess.run([str(LINT)], cwd=tree, env=env, capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the packages and the contracts, to break on purpose."""
    root = tmp_path_factory.mktemp("layers")
    for package in ("app", "workers", "infra"):
        shutil.copytree(ROOT / package, root / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", root / "pyproject.toml")
    return root


def test_the_code_keeps_every_contract(tree: Path) -> None:
    done = lint(tree)
    assert done.returncode == 0, done.stdout[-2000:]


@pytest.mark.parametrize(
    ("module", "source", "contract"),
    [
        ("app/services/leak.py", "import app.bootstrap.container\n", "Services depend on ports"),
        ("app/services/leak.py", "import app.adapters.dynamodb.users\n", "Services depend on ports"),
        ("app/domain/leak.py", "import boto3\n", "Domain is pure"),
        ("workers/leak.py", "import fastapi\n", "Workers never load FastAPI"),
        ("app/adapters/leak.py", "import app.api.deps\n", "Layers"),
    ],
)
def test_a_forbidden_import_breaks_its_contract(tree: Path, module: str, source: str, contract: str) -> None:
    path = tree / module
    path.write_text(source)
    try:
        done = lint(tree)
    finally:
        path.unlink()
    assert done.returncode != 0
    assert contract in done.stdout
    assert "BROKEN" in done.stdout
