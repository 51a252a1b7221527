"""The Lambda image, proven without Docker: its contents import every handler of the template."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from infra.image import DOCKERFILE, REQUIREMENTS, ROOT, build_task_root, copies, exported_requirements
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


# The image's Python and the two architectures the template can deploy (Architecture: arm64 | x86_64).
PLATFORMS = {"arm64": ("aarch64",), "x86_64": ("x86_64",)}


def _fits(wheel: str, machine: str) -> bool:
    """Whether a wheel's tags install on CPython 3.12 on manylinux for this machine."""
    python, abi, platform = wheel.removesuffix(".whl").split("-")[-3:]
    pythons = python.split(".")
    runs = any(
        p in ("py3", "py2", "cp312") or (p.startswith("cp3") and abi == "abi3" and int(p[3:]) <= 12) for p in pythons
    )
    return runs and (
        platform == "any" or any(p.startswith("manylinux") and p.endswith(machine) for p in platform.split("."))
    )


def test_every_requirement_has_a_cp312_wheel_for_both_architectures_whose_hash_is_pinned() -> None:
    lock = {p["name"]: p for p in tomllib.loads((ROOT / "uv.lock").read_text())["package"]}
    pinned: dict[str, set[str]] = {}
    for block in re.split(r"\n(?=\S)", REQUIREMENTS.read_text()):  # one requirement and its hash lines
        if "==" in block and not block.startswith("#"):
            name = block.split("==")[0].strip()
            pinned[name] = set(re.findall(r"--hash=(sha256:[0-9a-f]{64})", block))
    assert {"fastapi", "pydantic-core", "boto3"} <= set(pinned)
    missing = []
    for name, hashes in pinned.items():
        wheels = {w["url"].rsplit("/", 1)[-1]: w["hash"] for w in lock[name].get("wheels", [])}
        for arch, machines in PLATFORMS.items():
            fitting = [w for w, h in wheels.items() if h in hashes and any(_fits(w, m) for m in machines)]
            if not fitting:
                missing.append(f"{name} ({arch})")
    assert missing == [], f"no pinned cp312 wheel, so a deploy would fail at pip: {missing}"


def test_the_wheel_check_refuses_what_the_image_cannot_install() -> None:
    assert _fits("pydantic_core-2.46.5-cp312-cp312-manylinux_2_17_aarch64.manylinux2014_aarch64.whl", "aarch64")
    assert not _fits("pydantic_core-2.46.5-cp312-cp312-manylinux_2_17_aarch64.manylinux2014_aarch64.whl", "x86_64")
    assert not _fits("pydantic_core-2.46.5-cp313-cp313-manylinux_2_17_x86_64.whl", "x86_64")
    assert not _fits("cffi-2.0.0-cp312-cp312-musllinux_1_2_x86_64.whl", "x86_64")
    assert _fits("cryptography-46.0.3-cp311-abi3-manylinux_2_28_x86_64.whl", "x86_64")
    assert _fits("boto3-1.40.0-py3-none-any.whl", "aarch64")
