"""The deploy pipeline: its workflows, checked against GitHub's schema, and the least-privilege role it assumes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from infra.image import ROOT
from infra.local.template import load_template

WORKFLOWS = ROOT / ".github" / "workflows"
PIPELINE = load_template(ROOT / "infra" / "pipeline.yaml")["Resources"]
CHECKER = Path(sys.executable).with_name("check-jsonschema")


def workflow(name: str) -> dict[Any, Any]:
    loaded: dict[Any, Any] = yaml.safe_load((WORKFLOWS / name).read_text())
    return loaded


def schema_check(*paths: Path) -> subprocess.CompletedProcess[str]:
    command = [str(CHECKER), "--builtin-schema", "vendor.github-workflows", *map(str, paths)]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


def test_every_workflow_follows_github_s_schema_and_a_broken_one_is_refused(tmp_path: Path) -> None:
    assert schema_check(*sorted(WORKFLOWS.glob("*.yml"))).returncode == 0
    broken = tmp_path / "broken.yml"
    broken.write_text("on: push\njobs:\n  test:\n    steps:\n      - run: make test\n")  # no runs-on
    assert schema_check(broken).returncode != 0


def test_ci_runs_make_test_on_python_3_12_with_read_only_permissions() -> None:
    ci = workflow("ci.yml")
    job = ci["jobs"]["test"]
    assert job["container"].startswith("python:3.12")
    assert [s.get("run") for s in job["steps"] if "run" in s] == ["make test"]
    assert ci["permissions"] == {"contents": "read"}


def test_deploys_go_to_dev_after_the_tests_then_to_prod_in_their_environments() -> None:
    deploy = workflow("deploy.yml")["jobs"]
    assert (deploy["dev"]["needs"], deploy["prod"]["needs"]) == ("test", "dev")
    assert {deploy[s]["with"]["stage"] for s in ("dev", "prod")} == {"dev", "prod"}
    assert all(deploy[s]["permissions"]["id-token"] == "write" for s in ("dev", "prod"))
    stage = workflow("deploy-stage.yml")["jobs"]["deploy"]
    assert stage["environment"] == "${{ inputs.stage }}"  # prod's required reviewers approve it
    assert "arm" in stage["runs-on"]  # the arm64 image, built natively
    steps = {s.get("uses", "").split("@")[0]: s for s in stage["steps"]}
    assert steps["aws-actions/configure-aws-credentials"]["with"]["role-to-assume"] == "${{ vars.AWS_DEPLOY_ROLE_ARN }}"
    assert stage["steps"][-1]["run"] == "make deploy STAGE=${{ inputs.stage }}"


def _statements(role: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for p in role["Properties"]["Policies"] for s in p["PolicyDocument"]["Statement"]]


def test_only_the_repository_s_deploy_environments_can_assume_the_deploy_role() -> None:
    trust = PIPELINE["DeployRole"]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert [s["Action"] for s in trust] == ["sts:AssumeRoleWithWebIdentity"]
    condition = trust[0]["Condition"]["StringEquals"]
    assert condition["token.actions.githubusercontent.com:aud"] == "sts.amazonaws.com"
    subjects = [s["Fn::Sub"] for s in condition["token.actions.githubusercontent.com:sub"]]
    assert subjects == [f"repo:${{GitHubOrg}}/${{GitHubRepo}}:environment:{e}" for e in ("dev", "prod")]


def test_the_deploy_role_creates_nothing_itself_and_passes_only_the_execution_role_to_cloudformation() -> None:
    statements = _statements(PIPELINE["DeployRole"])
    actions = [a for s in statements for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])]
    assert not [a for a in actions if a.endswith("*")]
    assert {a.split(":")[0] for a in actions} == {"cloudformation", "ecr", "iam", "s3"}
    passes = [s for s in statements if "iam:PassRole" in s["Action"]]
    assert len(passes) == 1
    assert passes[0]["Resource"] == {"Fn::GetAtt": ["CloudFormationExecutionRole", "Arn"]}
    assert passes[0]["Condition"]["StringEquals"]["iam:PassedToService"] == "cloudformation.amazonaws.com"
    unscoped = [s for s in statements if s["Resource"] == "*"]
    assert [sorted(s["Action"]) for s in unscoped] == [
        ["cloudformation:GetTemplateSummary", "cloudformation:ValidateTemplate", "ecr:GetAuthorizationToken"]
    ]


def test_only_cloudformation_acts_as_the_execution_role() -> None:
    trust = PIPELINE["CloudFormationExecutionRole"]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert [s["Principal"] for s in trust] == [{"Service": "cloudformation.amazonaws.com"}]
    iam = next(s for s in _statements(PIPELINE["CloudFormationExecutionRole"]) if "iam:CreateRole" in s["Action"])
    assert iam["Resource"] == {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/${Service}-*"}
