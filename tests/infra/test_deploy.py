"""Deployment files: samconfig.toml, the deploy script and the README's resource diagram."""

from __future__ import annotations

import re
import tomllib

from tests.infra.image_build import ROOT
from tests.infra.template_walk import of_type, template

DIAGRAMMED = (
    "AWS::Serverless::Function",
    "AWS::DynamoDB::Table",
    "AWS::SQS::Queue",
    "AWS::SNS::Topic",
    "AWS::Events::EventBus",
    "AWS::Serverless::StateMachine",
)


def _diagram() -> str:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("### Resources", 1)[1]
    return section.split("```mermaid", 1)[1].split("```", 1)[0]


def test_readme_diagram_shows_every_resource_of_the_template() -> None:
    nodes = set(re.findall(r"[A-Za-z][A-Za-z0-9]*", _diagram()))
    missing = sorted(set(of_type(template(), *DIAGRAMMED)) - nodes)
    assert not missing, f"add to the README diagram: {missing}"


def test_readme_diagram_names_no_resource_the_template_lacks() -> None:
    resources = set(template()["Resources"])
    named = set(re.findall(r"\b([A-Z][A-Za-z0-9]*(?:Function|Table|Queue|Topic|Bus|Workflow|Secret))\b", _diagram()))
    assert named, "the diagram names resources by logical id"
    assert named <= resources, sorted(named - resources)


def test_samconfig_deploys_each_stage_from_the_template() -> None:
    config = tomllib.loads((ROOT / "samconfig.toml").read_text())
    for stage in ("dev", "prod"):
        deploy = config[stage]["deploy"]["parameters"]
        assert deploy["stack_name"] == f"order-service-{stage}"
        assert deploy["capabilities"] == "CAPABILITY_IAM"
        assert config[stage]["build"]["parameters"]["template_file"] == "infra/template.yaml"
    assert config["prod"]["deploy"]["parameters"]["confirm_changeset"] is True


def test_deploy_script_passes_stage_and_the_pushed_image() -> None:
    script = (ROOT / "infra" / "deploy.sh").read_text()
    assert '"Stage=$STAGE" "ImageUri=$IMAGE"' in script
    assert 'sam build --config-env "$STAGE"' in script
    assert 'sam deploy --config-env "$STAGE"' in script
    makefile = (ROOT / "Makefile").read_text()
    assert "infra/deploy.sh $(STAGE)" in makefile
