"""The Lambda image, proven without Docker: its contents import every handler of the template."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.image_build import DOCKERFILE, REQUIREMENTS, ROOT, build_task_root, copies, exported_requirements
from tests.support.template_walk import of_type, props, template

# Runs in the fresh interpreter: import each handler, and show that dev-only packages are absent.
PROBE = """
import importlib, importlib.util, json, sys
root = sys.argv[1]
sys.path.insert(0, root)
result = {"foreign_paths": [p for p in sys.path if p != root and not p.startswith(sys.base_prefix)]}
for handler in sys.argv[2:]:
    module, name = handler.rsplit(".", 1)
    result[handler] = callable(getattr(importlib.import_module(module), name))
result["dev_only_visible"] = [m for m in ("pytest", "moto", "uvicorn", "infra") if importlib.util.find_spec(m)]
print(json.dumps(result))
"""


def _handlers() -> list[str]:
    tpl = template()
    functions = of_type(tpl, "AWS::Serverless::Function").values()
    return sorted({command for f in functions for command in props(f)["ImageConfig"]["Command"]})


@pytest.fixture(scope="session")
def task_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The image's LAMBDA_TASK_ROOT, built once per session."""
    return build_task_root(tmp_path_factory.mktemp("image") / "var-task")


def test_dockerfile_builds_the_lambda_image_the_issue_describes() -> None:
    text = DOCKERFILE.read_text()
    assert text.splitlines()[3] == "FROM public.ecr.aws/lambda/python:3.12"
    assert '--target "${LAMBDA_TASK_ROOT}" -r /tmp/requirements.txt' in text
    assert "--require-hashes" in text
    assert "compileall" in text
    assert text.rstrip().splitlines()[-1] == 'CMD ["app.lambda_handler.handler"]'
    assert [source for source, _ in copies()] == ["requirements.txt", "app/", "workers/"]


def test_every_path_the_dockerfile_copies_exists_and_is_in_the_build_context() -> None:
    ignore = (ROOT / ".dockerignore").read_text().splitlines()
    assert "*" in ignore, "the build context starts empty"
    for source, destination in copies():
        assert (ROOT / source).exists(), source
        assert f"!{source}" in ignore, f"{source} is excluded by .dockerignore"
        assert destination.startswith("${LAMBDA_TASK_ROOT}") or destination.startswith("/tmp/"), destination


def test_requirements_match_the_lock() -> None:
    assert REQUIREMENTS.read_text() == exported_requirements(), (
        "requirements.txt drifted from uv.lock: make requirements"
    )


def test_requirements_hold_no_dev_dependency() -> None:
    names = {line.split("==")[0] for line in REQUIREMENTS.read_text().splitlines() if "==" in line}
    assert {"fastapi", "mangum", "boto3", "pydantic"} <= names
    assert not names & {"pytest", "moto", "uvicorn", "ruff", "mypy", "httpx", "cfn-lint", "aws-sam-translator"}


@pytest.mark.slow
def test_image_contents_import_every_handler_of_the_template(task_root: Path) -> None:
    handlers = _handlers()
    assert "app.lambda_handler.handler" in handlers
    env = {"PATH": os.environ.get("PATH", ""), "AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1"}
    env["LAMBDA_TASK_ROOT"] = str(task_root)
    # -I: no user site, no PYTHONPATH, no cwd; -S: no site-packages. Only the task root and the stdlib.
    done = subprocess.run(
        [sys.executable, "-I", "-S", "-c", PROBE, str(task_root), *handlers],
        cwd=task_root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result.pop("foreign_paths") == []
    assert result.pop("dev_only_visible") == []
    assert result == dict.fromkeys(handlers, True)


@pytest.mark.slow
def test_image_contents_are_precompiled_and_hold_no_tooling(task_root: Path) -> None:
    assert not (task_root / "tests").exists()
    assert not (task_root / "infra").exists()
    assert (task_root / "app" / "__pycache__").is_dir()
    sources = list((task_root / "app").rglob("*.py"))
    compiled = list((task_root / "app").rglob("*.pyc"))
    assert sources
    assert len(compiled) == len(sources)
