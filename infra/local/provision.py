"""Create the template's tables, queues, topics and buses in the local cloud."""

from __future__ import annotations

import json
import secrets
import string
from typing import Any

import boto3
from botocore.config import Config

from infra.local.template import Stack

TOOLING_APP_ID = "local-tooling"
_TABLE_KEYS = ("AttributeDefinitions", "KeySchema", "GlobalSecondaryIndexes", "LocalSecondaryIndexes")
_QUEUE_ATTRIBUTES = (
    "VisibilityTimeout",
    "MessageRetentionPeriod",
    "DelaySeconds",
    "ReceiveMessageWaitTimeSeconds",
    "MaximumMessageSize",
)


def client(stack: Stack, service: str, app_id: str = TOOLING_APP_ID) -> Any:
    """A boto3 client for the local endpoint (its calls attributed to `app_id`: the tooling, or a function)."""
    factory: Any = boto3.client
    return factory(
        service,
        endpoint_url=stack.endpoint,
        region_name=stack.region,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        # Explicit, so a function's AWS_SDK_UA_APP_ID in the environment never attributes tooling calls to it.
        config=Config(user_agent_appid=app_id),  # type: ignore[call-arg]  # stubs predate the field
    )


PROVISIONED = (
    "AWS::SQS::Queue",
    "AWS::DynamoDB::Table",
    "AWS::SNS::Topic",
    "AWS::Events::EventBus",
    "AWS::SecretsManager::Secret",
    "AWS::S3::Bucket",
)


def provision(stack: Stack, only: set[str] | None = None) -> int:
    """Create every supported resource of the template (or only those logical ids), in dependency order.

    Returns how many were created.
    """
    view = stack if only is None else _Only(stack, only)
    return sum(step(view) for step in (_queues, _tables, _topics, _buses, _secrets, _buckets))


class _Only:
    """A stack seen through a filter on logical ids (for resources added while `make run` is up)."""

    def __init__(self, stack: Stack, only: set[str]) -> None:
        self._stack = stack
        self._only = only

    def of_type(self, *types: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self._stack.of_type(*types).items() if k in self._only}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stack, name)


def _tables(stack: Any) -> int:
    dynamodb = client(stack, "dynamodb")
    for logical, resource in stack.of_type("AWS::DynamoDB::Table").items():
        props = stack.resolve(resource["Properties"])
        args: dict[str, Any] = {k: props[k] for k in _TABLE_KEYS if k in props}
        args["TableName"] = stack.name(logical)
        args["BillingMode"] = props.get("BillingMode", "PAY_PER_REQUEST")
        dynamodb.create_table(**args)
        ttl = props.get("TimeToLiveSpecification")
        if ttl:
            dynamodb.update_time_to_live(
                TableName=args["TableName"],
                TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": bool(ttl["Enabled"])},
            )
    return len(stack.of_type("AWS::DynamoDB::Table"))


def _queues(stack: Any) -> int:
    sqs = client(stack, "sqs")
    queues = stack.of_type("AWS::SQS::Queue")
    # Dead-letter queues first: a redrive policy must point at an existing queue.
    ordered = sorted(queues, key=lambda q: "RedrivePolicy" in queues[q].get("Properties", {}))
    for logical in ordered:
        props = stack.resolve(queues[logical].get("Properties", {}))
        attributes = {k: str(props[k]) for k in _QUEUE_ATTRIBUTES if k in props}
        if "RedrivePolicy" in props:
            attributes["RedrivePolicy"] = json.dumps(props["RedrivePolicy"])
        sqs.create_queue(QueueName=stack.name(logical), Attributes=attributes)
    return len(ordered)


def _topics(stack: Any) -> int:
    sns = client(stack, "sns")
    for logical in stack.of_type("AWS::SNS::Topic"):
        sns.create_topic(Name=stack.name(logical))
    return len(stack.of_type("AWS::SNS::Topic"))


def _buses(stack: Any) -> int:
    events = client(stack, "events")
    for logical in stack.of_type("AWS::Events::EventBus"):
        events.create_event_bus(Name=stack.name(logical))
    return len(stack.of_type("AWS::Events::EventBus"))


def _buckets(stack: Any) -> int:
    # Encryption, public access and lifecycle are the service's defaults locally; S3 notifications are
    # wired by the runtime (infra/local/runtime/sources/s3.py), and moto does not enforce bucket policies.
    s3 = client(stack, "s3")
    for logical in stack.of_type("AWS::S3::Bucket"):
        s3.create_bucket(Bucket=stack.name(logical))
    return len(stack.of_type("AWS::S3::Bucket"))


def _secrets(stack: Any) -> int:
    secretsmanager = client(stack, "secretsmanager")
    for logical, resource in stack.of_type("AWS::SecretsManager::Secret").items():
        props = stack.resolve(resource.get("Properties", {}))
        value = props.get("SecretString") or generate_secret(props.get("GenerateSecretString", {}))
        secretsmanager.create_secret(Name=stack.name(logical), SecretString=value)
    return len(stack.of_type("AWS::SecretsManager::Secret"))


def generate_secret(spec: dict[str, Any]) -> str:
    """A fresh random value shaped like GenerateSecretString's: a new local dev secret on every run."""
    length = int(spec.get("PasswordLength", 32))
    alphabet = string.ascii_letters + string.digits
    if not spec.get("ExcludePunctuation"):
        alphabet += "!#$%&()*+,-.:;<=>?[]^_{|}~"
    return "".join(secrets.choice(alphabet) for _ in range(length))
