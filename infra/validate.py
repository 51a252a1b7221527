"""Offline SAM -> CloudFormation translation of infra/template.yaml (no AWS call).

`python -m infra.validate` translates the template for every stage and fails on any
translation error; `translate()` gives tests the CloudFormation the deployment would see.
"""

from __future__ import annotations

import copy
import json
import logging
import os
import sys
from functools import lru_cache
from pathlib import Path
from typing import Any

from infra.local.paths import TEMPLATE_PATH
from infra.local.template import load_template

STAGES = ("dev", "prod")

# The AWS managed policies a template may name in `Policies`, by name. SAM asks IAM for this
# map; offline we give it ourselves. Add a policy here before naming it in the template.
MANAGED_POLICIES: dict[str, str] = {
    "AWSLambdaBasicExecutionRole": "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
    "AWSXrayWriteOnlyAccess": "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess",
    "AWSLambdaVPCAccessExecutionRole": "arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole",
}


class OfflinePolicyLoader:
    """samtranslator's ManagedPolicyLoader interface, answered from MANAGED_POLICIES."""

    def load(self) -> dict[str, str]:
        """The managed policy name -> ARN map."""
        return dict(MANAGED_POLICIES)


def translate(template: dict[str, Any], parameters: dict[str, Any] | None = None) -> dict[str, Any]:
    """The CloudFormation template SAM would deploy for these parameter values."""
    # samtranslator reads the region for ARNs from the environment; give it one offline.
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    # The translator's usage metrics are for AWS's own service; offline they only warn.
    logging.getLogger("samtranslator.metrics").setLevel(logging.ERROR)
    # Offline there is no feature-toggle configuration: each toggle SAM asks for (DeploymentPreference asks
    # one) warns that it is unknown and falls back to its default, which is the behaviour deployed today.
    logging.getLogger("samtranslator.feature_toggle").setLevel(logging.ERROR)
    from samtranslator.translator.transform import transform

    packaged = _packaged(copy.deepcopy(template))
    result: dict[str, Any] = transform(packaged, dict(parameters or {}), OfflinePolicyLoader())
    return result


# Properties that name a local file which `sam package` uploads and replaces with an S3 URI.
_LOCAL_ARTIFACTS = {"AWS::Serverless::StateMachine": "DefinitionUri", "AWS::Serverless::Api": "DefinitionUri"}
_LOCAL_ARTIFACTS |= {"AWS::Serverless::HttpApi": "DefinitionUri", "AWS::Serverless::Function": "CodeUri"}


def _packaged(template: dict[str, Any]) -> dict[str, Any]:
    """What `sam package` would hand CloudFormation: local artifact paths become S3 URIs."""
    for resource in template.get("Resources", {}).values():
        prop = _LOCAL_ARTIFACTS.get(resource.get("Type", ""))
        props = resource.get("Properties", {})
        value = props.get(prop) if prop else None
        if isinstance(value, str) and not value.startswith("s3://"):
            base = TEMPLATE_PATH.parent
            if not (base / value).exists():
                raise FileNotFoundError(f"{prop} {value} does not exist next to the template")
            props[prop] = f"s3://sam-artifacts/{value}"
    return template


@lru_cache
def translated(stage: str = "dev") -> dict[str, Any]:
    """The repository template translated for one stage (cached; callers must not mutate it)."""
    return translate(load_template(), {"Stage": stage})


def main(argv: list[str] | None = None) -> int:
    """Translate the template (default: infra/template.yaml) for every stage; print a summary."""
    args = sys.argv[1:] if argv is None else argv
    path = Path(args[0]) if args else TEMPLATE_PATH
    template = load_template(path)
    for stage in STAGES:
        try:
            output = translate(template, {"Stage": stage})
        except Exception as error:  # noqa: BLE001 - report any translator failure as a failed validation
            print(f"SAM translation failed for Stage={stage}: {error}", file=sys.stderr)
            return 1
        kinds: dict[str, int] = {}
        for resource in output["Resources"].values():
            kinds[resource["Type"]] = kinds.get(resource["Type"], 0) + 1
        print(f"SAM translation OK for Stage={stage}: {json.dumps(dict(sorted(kinds.items())))}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
