"""Which IAM actions, on which resources, one AWS API request needs.

Most operations need the action of the same name on the resource the request names.
The exceptions are listed here: transactions and batches need the per-item actions on
every table they touch, batch queue operations need the single-message action, and S3's
REST requests are named by method and path.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, NamedTuple


class IamRequest(NamedTuple):
    """One IAM authorization a request needs: an action on a resource ARN ("*" for none)."""

    action: str
    resource: str


# SigV4 signing names that differ from IAM service prefixes.
_IAM_PREFIX = {"monitoring": "cloudwatch", "email": "ses"}
# Batch or variant operations authorized as another action.
_SAME_AS = {
    "sqs": {
        "SendMessageBatch": "SendMessage",
        "DeleteMessageBatch": "DeleteMessage",
        "ChangeMessageVisibilityBatch": "ChangeMessageVisibility",
    },
    "sns": {"PublishBatch": "Publish"},
}
_TRANSACT_WRITE = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
}
_ACCOUNT_LEVEL = {"ListTables", "ListQueues", "ListTopics", "ListStateMachines", "ListEventBuses", "ListSecrets"}
_ACCOUNT_LEVEL |= {"SendTaskSuccess", "SendTaskFailure", "SendTaskHeartbeat", "PutMetricData", "ListBuckets"}
_ACCOUNT_LEVEL |= {"GetRandomPassword", "DescribeLimits", "DescribeEndpoints"}


class _Arns:
    def __init__(self, region: str, account: str) -> None:
        self.region = region
        self.account = account

    def of(self, service: str, resource: str, sep: str = ":") -> str:
        if resource.startswith("arn:"):
            return resource
        return f"arn:aws:{service}:{self.region}:{self.account}{sep}{resource}"


def iam_requests(service: str, operation: str, params: dict[str, Any], region: str, account: str) -> list[IamRequest]:
    """The IAM authorizations one request needs."""
    prefix = _IAM_PREFIX.get(service, service)
    arns = _Arns(region, account)
    if operation in _ACCOUNT_LEVEL:
        return [IamRequest(f"{prefix}:{operation}", "*")]
    handler = _HANDLERS.get(prefix)
    if handler is not None:
        return list(handler(operation, params, arns))
    return [IamRequest(f"{prefix}:{operation}", "*")]


def _table(arns: _Arns, name: str) -> str:
    return name if name.startswith("arn:") else arns.of("dynamodb", f"table/{name}")


def _dynamodb(op: str, params: dict[str, Any], arns: _Arns) -> Iterator[IamRequest]:
    if op == "TransactWriteItems":
        for item in params["TransactItems"]:
            ((kind, body),) = item.items()
            yield IamRequest(f"dynamodb:{_TRANSACT_WRITE[kind]}", _table(arns, body["TableName"]))
    elif op == "TransactGetItems":
        for item in params["TransactItems"]:
            yield IamRequest("dynamodb:GetItem", _table(arns, item["Get"]["TableName"]))
    elif op in ("BatchWriteItem", "BatchGetItem"):
        for name in params["RequestItems"]:
            yield IamRequest(f"dynamodb:{op}", _table(arns, name))
    else:
        table = _table(arns, params.get("TableName") or params["TableArn"])
        index = params.get("IndexName")
        yield IamRequest(f"dynamodb:{op}", f"{table}/index/{index}" if index else table)


def _sqs(op: str, params: dict[str, Any], arns: _Arns) -> Iterator[IamRequest]:
    name = params["QueueName"] if "QueueName" in params else str(params["QueueUrl"]).rstrip("/").rsplit("/", 1)[-1]
    yield IamRequest(f"sqs:{_SAME_AS['sqs'].get(op, op)}", arns.of("sqs", name))


def _sns(op: str, params: dict[str, Any], arns: _Arns) -> Iterator[IamRequest]:
    target = params.get("TopicArn") or params.get("TargetArn") or params.get("SubscriptionArn") or "*"
    yield IamRequest(f"sns:{_SAME_AS['sns'].get(op, op)}", target)


def _states(op: str, params: dict[str, Any], arns: _Arns) -> Iterator[IamRequest]:
    resource = params.get("stateMachineArn") or params.get("executionArn") or params.get("activityArn") or "*"
    yield IamRequest(f"states:{op}", resource)


def _events(op: str, params: dict[str, Any], arns: _Arns) -> Iterator[IamRequest]:
    if op == "PutEvents":
        for bus in sorted({entry.get("EventBusName") or "default" for entry in params["Entries"]}):
            yield IamRequest(
                "events:PutEvents", bus if bus.startswith("arn:") else arns.of("events", f"event-bus/{bus}")
            )
    else:
        name = params.get("Name") or params.get("Rule") or "*"
        yield IamRequest(f"events:{op}", name if name == "*" else arns.of("events", f"rule/{name}"))


def _secretsmanager(op: str, params: dict[str, Any], arns: _Arns) -> Iterator[IamRequest]:
    secret_id = str(params.get("SecretId") or params.get("Name") or "*")
    if secret_id not in ("*", "") and not secret_id.startswith("arn:"):
        # A real secret ARN always ends in '-' and six random characters; policies rely on it.
        secret_id = arns.of("secretsmanager", f"secret:{secret_id}-000000")
    yield IamRequest(f"secretsmanager:{op}", secret_id)


def _s3(op: str, params: dict[str, Any], arns: _Arns) -> Iterator[IamRequest]:
    bucket, _, key = str(params["Path"]).lstrip("/").partition("/")
    method, query = params["Method"], params["Query"]
    if not key:
        bucket_actions = {"PUT": "CreateBucket", "DELETE": "DeleteBucket", "POST": "DeleteObject"}
        action = bucket_actions.get(method, "ListBucket")  # POST /bucket?delete is DeleteObjects
        yield IamRequest(f"s3:{action}", f"arn:aws:s3:::{bucket}" + ("/*" if method == "POST" else ""))
        return
    if method == "DELETE":
        action = "AbortMultipartUpload" if "uploadId" in query else "DeleteObject"
    else:
        action = {"GET": "GetObject", "HEAD": "GetObject"}.get(method, "PutObject")
    yield IamRequest(f"s3:{action}", f"arn:aws:s3:::{bucket}/{key}")
    if params.get("CopySource"):
        yield IamRequest("s3:GetObject", "arn:aws:s3:::" + str(params["CopySource"]).lstrip("/").split("?")[0])


_HANDLERS: dict[str, Callable[[str, dict[str, Any], _Arns], Iterator[IamRequest]]] = {
    "dynamodb": _dynamodb,
    "sqs": _sqs,
    "sns": _sns,
    "states": _states,
    "events": _events,
    "secretsmanager": _secretsmanager,
    "s3": _s3,
}
