"""Deployment: samconfig deploys each stage from the template, and deploy.sh pushes the image it deploys.

deploy.sh runs for real, with stand-ins for docker, aws, sam and git on PATH that record their arguments.
"""

from __future__ import annotations

import stat
import subprocess
import tomllib
from pathlib import Path

import pytest

from infra.image import ROOT

STUB = """#!/usr/bin/env bash
echo "$(basename "$0") $*" >> "$CALLS"
case "$(basename "$0") $1 $2" in
  "aws sts get-caller-identity") echo 123456789012 ;;
  "aws configure get") echo eu-west-1 ;;
  "aws ecr describe-images") exit 1 ;;
  "git rev-parse --short=12") echo 0123456789ab ;;
esac
"""


def test_samconfig_deploys_each_stage_from_the_template() -> None:
    config = tomllib.loads((ROOT / "samconfig.toml").read_text())
    for stage in ("dev", "prod"):
        deploy = config[stage]["deploy"]["parameters"]
        assert deploy["stack_name"] == f"order-service-{stage}"
        assert deploy["capabilities"] == "CAPABILITY_IAM"
        assert config[stage]["build"]["parameters"]["template_file"] == "infra/template.yaml"
    assert config["prod"]["deploy"]["parameters"]["confirm_changeset"] is True


def deploy(stage: str, tmp_path: Path, **extra: str) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("docker", "aws", "sam", "git"):
        path = bin_dir / tool
        path.write_text(STUB)
        path.chmod(path.stat().st_mode | stat.S_IEXEC)
    calls = tmp_path / "calls"
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "CALLS": str(calls), "HOME": str(tmp_path), **extra}
    done = subprocess.run(
        ["bash", str(ROOT / "infra" / "deploy.sh"), stage], env=env, capture_output=True, text=True, timeout=60
    )
    return done, calls.read_text().splitlines() if calls.exists() else []


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_deploy_builds_pushes_and_deploys_the_same_image(stage: str, tmp_path: Path) -> None:
    done, calls = deploy(stage, tmp_path)
    assert done.returncode == 0, done.stderr
    image = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/order-service:0123456789ab"
    assert f"docker push {image}" in calls
    build = calls.index(f"sam build --config-env {stage}")
    deployed = next(c for c in calls if c.startswith("sam deploy"))
    assert calls.index(f"docker push {image}") < build < calls.index(deployed)
    assert f"--config-env {stage}" in deployed
    assert f"Stage={stage}" in deployed.split()
    assert f"ImageUri={image}" in deployed.split()


def test_deploy_refuses_an_unknown_stage(tmp_path: Path) -> None:
    done, calls = deploy("staging", tmp_path)
    assert (done.returncode, calls) == (2, [])
    assert "dev or prod" in done.stderr


def test_the_pipeline_deploys_as_its_execution_role_through_its_own_bucket(tmp_path: Path) -> None:
    role = "arn:aws:iam::123456789012:role/order-service-cloudformation"
    done, calls = deploy(
        "prod",
        tmp_path,
        CFN_EXECUTION_ROLE_ARN=role,
        ARTIFACT_BUCKET="artifacts",
        SAM_DEPLOY_ARGS="--no-confirm-changeset",
    )
    assert done.returncode == 0, done.stderr
    deployed = next(c for c in calls if c.startswith("sam deploy")).split()
    assert deployed[deployed.index("--role-arn") + 1] == role
    assert deployed[deployed.index("--s3-bucket") + 1] == "artifacts"
    assert "--resolve-s3" not in deployed
    assert "--no-confirm-changeset" in deployed
    (tmp_path / "by-hand").mkdir()
    _, by_hand = deploy("dev", tmp_path / "by-hand")
    assert "--resolve-s3" in next(c for c in by_hand if c.startswith("sam deploy")).split()  # SAM's own bucket
