"""Each function's effective IAM grants, read from the SAM-translated template and resolved locally."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from infra.iam.actions import IamRequest
from infra.local.template import ACCOUNT_ID, Stack

# What the AWS managed policies SAM attaches grant (offline copy of their documents).
MANAGED_POLICY_ACTIONS: dict[str, tuple[str, ...]] = {
    "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole": (
        "logs:CreateLogGroup",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
    ),
    "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess": (
        "xray:PutTraceSegments",
        "xray:PutTelemetryRecords",
        "xray:GetSamplingRules",
        "xray:GetSamplingTargets",
        "xray:GetSamplingStatisticSummaries",
    ),
    "arn:aws:iam::aws:policy/service-role/AWSLambdaSQSQueueExecutionRole": (
        "sqs:ReceiveMessage",
        "sqs:DeleteMessage",
        "sqs:GetQueueAttributes",
        "logs:CreateLogGroup",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
    ),
    "arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole": (
        "ec2:CreateNetworkInterface",
        "ec2:DescribeNetworkInterfaces",
        "ec2:DescribeSubnets",
        "ec2:DeleteNetworkInterface",
        "ec2:AssignPrivateIpAddresses",
        "ec2:UnassignPrivateIpAddresses",
        "logs:CreateLogGroup",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
    ),
}


@dataclass(frozen=True)
class Grant:
    """One action pattern on one resource pattern, from one statement of a function's policy."""

    function: str
    effect: str
    action: str
    resource: str
    source: str

    def matches(self, request: IamRequest) -> bool:
        """Whether this grant's patterns cover the request (conditions are not evaluated)."""
        return _pattern(self.action, ignore_case=True).fullmatch(request.action) is not None and (
            _pattern(self.resource, ignore_case=False).fullmatch(request.resource) is not None
        )


@lru_cache(maxsize=1024)
def _pattern(glob: str, *, ignore_case: bool) -> re.Pattern[str]:
    regex = re.escape(glob).replace(r"\*", ".*").replace(r"\?", ".")
    return re.compile(regex, re.IGNORECASE if ignore_case else 0)


def function_grants(cfn: dict[str, Any], stack: Stack) -> dict[str, list[Grant]]:
    """Every Lambda function of a translated template and the grants of its execution role."""
    resources: dict[str, dict[str, Any]] = cfn["Resources"]
    result: dict[str, list[Grant]] = {}
    for logical, resource in resources.items():
        if resource["Type"] != "AWS::Lambda::Function":
            continue
        role = resource["Properties"]["Role"]
        if not (isinstance(role, dict) and "Fn::GetAtt" in role):
            raise ValueError(f"{logical}: the execution role must be a role of this template")
        role_id = role["Fn::GetAtt"][0]
        result[logical] = _role_grants(logical, role_id, resources, stack)
    return result


def _role_grants(function: str, role_id: str, resources: dict[str, Any], stack: Stack) -> list[Grant]:
    role = resources[role_id]["Properties"]
    documents = [(f"{role_id}/{p['PolicyName']}", p["PolicyDocument"]) for p in role.get("Policies", [])]
    for logical, resource in resources.items():
        attached = resource.get("Properties", {}).get("Roles", [])
        if resource["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy") and {"Ref": role_id} in attached:
            documents.append((logical, resource["Properties"]["PolicyDocument"]))
    grants = [g for source, doc in documents for g in _document_grants(function, source, doc, stack)]
    for arn in stack.resolve(role.get("ManagedPolicyArns", [])):
        if arn not in MANAGED_POLICY_ACTIONS:
            raise ValueError(f"{function}: managed policy {arn} is unknown; add its actions to MANAGED_POLICY_ACTIONS")
        grants += [Grant(function, "Allow", action, "*", arn) for action in MANAGED_POLICY_ACTIONS[arn]]
    return grants


def _document_grants(function: str, source: str, document: dict[str, Any], stack: Stack) -> list[Grant]:
    statements = stack.resolve(document["Statement"])
    grants: list[Grant] = []
    for statement in statements if isinstance(statements, list) else [statements]:
        if "NotAction" in statement or "NotResource" in statement:
            raise ValueError(f"{function}: NotAction/NotResource are not allowed in function policies ({source})")
        for action in _as_list(statement["Action"]):
            for resource in _as_list(statement["Resource"]):
                for pattern in _local_resources(action, str(resource), stack):
                    grants.append(Grant(function, statement["Effect"], action, pattern, source))
    return grants


def _as_list(value: Any) -> list[Any]:
    items = value if isinstance(value, list) else [value]
    return [v for v in items if v is not None]  # AWS::NoValue


def _local_resources(action: str, resource: str, stack: Stack) -> list[str]:
    """The ARN patterns a resolved Resource stands for locally (a Ref may resolve to a URL or a name)."""
    if resource.startswith("http"):  # !Ref of a queue is its URL
        return [f"arn:aws:sqs:{stack.region}:{ACCOUNT_ID}:{resource.rstrip('/').rsplit('/', 1)[-1]}"]
    if action.startswith("secretsmanager:") and not resource.startswith("arn:") and resource != "*":
        return [f"arn:aws:secretsmanager:{stack.region}:{ACCOUNT_ID}:secret:{resource}-??????"]
    return [resource]


def allowed(grants: list[Grant], request: IamRequest) -> list[Grant]:
    """The Allow grants that authorize a request; empty when none does or a Deny matches."""
    if any(g.effect == "Deny" and g.matches(request) for g in grants):
        return []
    return [g for g in grants if g.effect == "Allow" and g.matches(request)]
