"""Load the SAM template and resolve the intrinsic functions the local cloud needs."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from infra.local import cfn_yaml
from infra.local.paths import TEMPLATE_PATH

ACCOUNT_ID = "123456789012"
_SUB_VAR = re.compile(r"\$\{([^}!][^}]*)\}")

# Which property holds the physical name of each resource type we provision locally.
_NAME_PROPERTY = {
    "AWS::DynamoDB::Table": "TableName",
    "AWS::SQS::Queue": "QueueName",
    "AWS::SNS::Topic": "TopicName",
    "AWS::Events::EventBus": "Name",
    "AWS::SecretsManager::Secret": "Name",
    "AWS::S3::Bucket": "BucketName",
    "AWS::Serverless::Function": "FunctionName",
    "AWS::Serverless::StateMachine": "Name",
    "AWS::StepFunctions::StateMachine": "StateMachineName",
    "AWS::Events::Rule": "Name",
}


def load_template(path: Path = TEMPLATE_PATH) -> dict[str, Any]:
    """Parse a CloudFormation/SAM YAML template, short-form tags included."""
    return cfn_yaml.load(path)


@dataclass
class Stack:
    """A template bound to parameter values, a region and a local endpoint."""

    template: dict[str, Any]
    endpoint: str
    region: str = "us-east-1"
    overrides: dict[str, str] = field(default_factory=dict)

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        """The template's resources, by logical id."""
        return dict(self.template.get("Resources", {}))

    def parameter(self, name: str) -> Any:
        """A parameter's value: an override, else its default."""
        if name in self.overrides:
            return self.overrides[name]
        spec = self.template.get("Parameters", {})[name]
        default = spec.get("Default")
        if spec.get("Type") == "CommaDelimitedList" and isinstance(default, str):
            return [part.strip() for part in default.split(",")]
        return default

    def of_type(self, *types: str) -> dict[str, dict[str, Any]]:
        """Resources of the given types, by logical id."""
        return {k: v for k, v in self.resources.items() if v["Type"] in types}

    def condition(self, name: str) -> bool:
        """Evaluate a named condition."""
        return bool(self.resolve(self.template["Conditions"][name]))

    def name(self, logical_id: str) -> str:
        """The physical name of a resource."""
        resource = self.resources[logical_id]
        prop = _NAME_PROPERTY.get(resource["Type"])
        value = resource.get("Properties", {}).get(prop) if prop else None
        if value is None:
            return f"{self.parameter('Service')}-{logical_id}"
        return str(self.resolve(value))

    def arn(self, logical_id: str) -> str:
        """The ARN a resource would have in the local account."""
        kind = self.resources[logical_id]["Type"]
        name = self.name(logical_id)
        prefix = f"arn:aws:{{}}:{self.region}:{ACCOUNT_ID}"
        arns = {
            "AWS::DynamoDB::Table": prefix.format("dynamodb") + f":table/{name}",
            "AWS::SQS::Queue": prefix.format("sqs") + f":{name}",
            "AWS::SNS::Topic": prefix.format("sns") + f":{name}",
            "AWS::Events::EventBus": prefix.format("events") + f":event-bus/{name}",
            "AWS::Events::Rule": prefix.format("events") + f":rule/{name}",
            "AWS::S3::Bucket": f"arn:aws:s3:::{name}",
            "AWS::Serverless::Function": prefix.format("lambda") + f":function:{name}",
            "AWS::Serverless::StateMachine": prefix.format("states") + f":stateMachine:{name}",
        }
        if kind not in arns:
            raise KeyError(f"no local ARN for {kind}")
        return arns[kind]

    def ref(self, logical_id: str) -> Any:
        """What `!Ref` returns for a parameter or a resource."""
        pseudo = {
            "AWS::Region": self.region,
            "AWS::AccountId": ACCOUNT_ID,
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::Partition": "aws",
            "AWS::StackName": f"{self.parameter('Service')}-{self.parameter('Stage')}",
            "AWS::NoValue": None,
        }
        if logical_id in pseudo:
            return pseudo[logical_id]
        if logical_id in self.template.get("Parameters", {}):
            return self.parameter(logical_id)
        kind = self.resources[logical_id]["Type"]
        if kind == "AWS::SQS::Queue":
            return f"{self.endpoint}/{ACCOUNT_ID}/{self.name(logical_id)}"
        if kind in ("AWS::SNS::Topic", "AWS::Serverless::StateMachine"):
            return self.arn(logical_id)
        if kind == "AWS::SecretsManager::Secret":
            return self.name(logical_id)
        return self.name(logical_id)

    def get_att(self, logical_id: str, attribute: str) -> Any:
        """What `!GetAtt` returns."""
        if attribute == "Arn":
            return self.arn(logical_id)
        if attribute in ("QueueName", "TopicName", "Name"):
            return self.name(logical_id)
        if attribute == "QueueUrl":
            return self.ref(logical_id)
        raise KeyError(f"unsupported attribute {logical_id}.{attribute}")

    def resolve(self, value: Any) -> Any:
        """Resolve intrinsic functions recursively."""
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, arg),) = value.items()
            handler = _INTRINSICS.get(key)
            if handler is not None:
                return handler(self, arg)
        return {k: self.resolve(v) for k, v in value.items()}

    def _sub(self, arg: Any) -> str:
        text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])

        def replace(match: re.Match[str]) -> str:
            token = match.group(1)
            if token in variables:
                return str(self.resolve(variables[token]))
            if "." in token and not token.startswith("AWS::"):
                logical, attribute = token.split(".", 1)
                return str(self.get_att(logical, attribute))
            return str(self.ref(token))

        return _SUB_VAR.sub(replace, text)


def _get_att(stack: Stack, arg: Any) -> Any:
    logical, attribute = arg.split(".", 1) if isinstance(arg, str) else arg
    return stack.get_att(logical, attribute)


def _join(stack: Stack, arg: Any) -> str:
    separator, parts = arg
    return str(separator).join(str(p) for p in stack.resolve(parts))


def _if(stack: Stack, arg: Any) -> Any:
    name, when_true, when_false = arg
    return stack.resolve(when_true if stack.condition(name) else when_false)


_INTRINSICS: dict[str, Any] = {
    "Ref": lambda s, a: s.ref(a),
    "Fn::Sub": Stack._sub,
    "Fn::GetAtt": _get_att,
    "Fn::Join": _join,
    "Fn::If": _if,
    # CloudFormation compares strings: a Number parameter's default 0 equals "0".
    "Fn::Equals": lambda s, a: _scalar(s.resolve(a[0])) == _scalar(s.resolve(a[1])),
    "Fn::Not": lambda s, a: not s.resolve(a[0]),
    "Fn::Or": lambda s, a: any(s.resolve(x) for x in a),
    "Fn::And": lambda s, a: all(s.resolve(x) for x in a),
    "Fn::Select": lambda s, a: s.resolve(a[1])[int(a[0])],
    "Fn::Split": lambda s, a: str(s.resolve(a[1])).split(a[0]),
    "Condition": lambda s, a: s.condition(a),
}


def _scalar(value: Any) -> Any:
    """A number or boolean as CloudFormation sees it (a string); anything else unchanged."""
    if isinstance(value, bool):
        return str(value).lower()
    return str(value) if isinstance(value, int | float) else value
