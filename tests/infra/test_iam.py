"""The least-privilege machinery: request recording, operation -> IAM mapping, policy evaluation."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

from infra.iam.actions import IamRequest, iam_requests
from infra.iam.policy import Grant, allowed, function_grants
from infra.iam.recorder import CallRecorder
from infra.iam.report import Allowance, check, load_allowlist
from infra.local.cloud import LocalCloud
from infra.local.template import ACCOUNT_ID, Stack, load_template
from infra.validate import translate

REGION = "us-east-1"
TABLE = f"arn:aws:dynamodb:{REGION}:{ACCOUNT_ID}:table"


@pytest.mark.parametrize(
    ("service", "operation", "params", "expected"),
    [
        ("dynamodb", "GetItem", {"TableName": "users"}, [("dynamodb:GetItem", f"{TABLE}/users")]),
        (
            "dynamodb",
            "Query",
            {"TableName": "u", "IndexName": "EmailIndex"},
            [("dynamodb:Query", f"{TABLE}/u/index/EmailIndex")],
        ),
        (
            "dynamodb",
            "TransactWriteItems",
            {
                "TransactItems": [
                    {"Put": {"TableName": "a"}},
                    {"Update": {"TableName": "b"}},
                    {"Delete": {"TableName": "a"}},
                    {"ConditionCheck": {"TableName": "c"}},
                ]
            },
            [
                ("dynamodb:PutItem", f"{TABLE}/a"),
                ("dynamodb:UpdateItem", f"{TABLE}/b"),
                ("dynamodb:DeleteItem", f"{TABLE}/a"),
                ("dynamodb:ConditionCheckItem", f"{TABLE}/c"),
            ],
        ),
        (
            "dynamodb",
            "TransactGetItems",
            {"TransactItems": [{"Get": {"TableName": "a"}}]},
            [("dynamodb:GetItem", f"{TABLE}/a")],
        ),
        (
            "dynamodb",
            "BatchWriteItem",
            {"RequestItems": {"a": [], "b": []}},
            [("dynamodb:BatchWriteItem", f"{TABLE}/a"), ("dynamodb:BatchWriteItem", f"{TABLE}/b")],
        ),
        ("dynamodb", "ListTables", {}, [("dynamodb:ListTables", "*")]),
        (
            "sqs",
            "SendMessageBatch",
            {"QueueUrl": "http://h/123/q"},
            [("sqs:SendMessage", f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:q")],
        ),
        ("sqs", "GetQueueUrl", {"QueueName": "q"}, [("sqs:GetQueueUrl", f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:q")]),
        ("sns", "Publish", {"TopicArn": "arn:aws:sns:r:a:t"}, [("sns:Publish", "arn:aws:sns:r:a:t")]),
        ("sns", "PublishBatch", {"TopicArn": "arn:aws:sns:r:a:t"}, [("sns:Publish", "arn:aws:sns:r:a:t")]),
        ("states", "StartExecution", {"stateMachineArn": "arn:sm"}, [("states:StartExecution", "arn:sm")]),
        ("states", "SendTaskSuccess", {"taskToken": "t"}, [("states:SendTaskSuccess", "*")]),
        (
            "events",
            "PutEvents",
            {"Entries": [{"EventBusName": "bus"}, {}, {"EventBusName": "bus"}]},
            [
                ("events:PutEvents", f"arn:aws:events:{REGION}:{ACCOUNT_ID}:event-bus/bus"),
                ("events:PutEvents", f"arn:aws:events:{REGION}:{ACCOUNT_ID}:event-bus/default"),
            ],
        ),
        (
            "events",
            "DescribeRule",
            {"Name": "r"},
            [("events:DescribeRule", f"arn:aws:events:{REGION}:{ACCOUNT_ID}:rule/r")],
        ),
        (
            "secretsmanager",
            "GetSecretValue",
            {"SecretId": "jwt"},
            [("secretsmanager:GetSecretValue", f"arn:aws:secretsmanager:{REGION}:{ACCOUNT_ID}:secret:jwt-000000")],
        ),
        (
            "s3",
            "REST",
            {"Method": "GET", "Path": "/b/k/x.csv", "Query": {}},
            [("s3:GetObject", "arn:aws:s3:::b/k/x.csv")],
        ),
        ("s3", "REST", {"Method": "HEAD", "Path": "/b/k", "Query": {}}, [("s3:GetObject", "arn:aws:s3:::b/k")]),
        (
            "s3",
            "REST",
            {"Method": "DELETE", "Path": "/b/k", "Query": {"uploadId": ["1"]}},
            [("s3:AbortMultipartUpload", "arn:aws:s3:::b/k")],
        ),
        ("s3", "REST", {"Method": "DELETE", "Path": "/b/k", "Query": {}}, [("s3:DeleteObject", "arn:aws:s3:::b/k")]),
        (
            "s3",
            "REST",
            {"Method": "GET", "Path": "/b", "Query": {"list-type": ["2"]}},
            [("s3:ListBucket", "arn:aws:s3:::b")],
        ),
        (
            "s3",
            "REST",
            {"Method": "PUT", "Path": "/b/new", "Query": {}, "CopySource": "/b/old"},
            [("s3:PutObject", "arn:aws:s3:::b/new"), ("s3:GetObject", "arn:aws:s3:::b/old")],
        ),
        ("monitoring", "PutMetricData", {}, [("cloudwatch:PutMetricData", "*")]),
        ("kms", "Decrypt", {}, [("kms:Decrypt", "*")]),
    ],
)
def test_operations_map_to_the_iam_actions_they_need(
    service: str, operation: str, params: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    assert iam_requests(service, operation, params, REGION, ACCOUNT_ID) == [IamRequest(*e) for e in expected]


@pytest.fixture
def recorded(local_cloud: LocalCloud) -> Iterator[CallRecorder]:
    """A recorder attached to the session's local cloud for one test."""
    recorder = CallRecorder(ACCOUNT_ID)
    local_cloud.observers.append(recorder.observe)
    yield recorder
    local_cloud.observers.remove(recorder.observe)


def _client(cloud: LocalCloud, service: str, app_id: str | None) -> Any:
    factory: Any = boto3.client
    return factory(
        service,
        endpoint_url=cloud.endpoint,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(user_agent_appid=app_id),  # type: ignore[call-arg]  # stubs predate the field
    )


def test_recorder_attributes_real_requests_to_the_app_id(local_cloud: LocalCloud, recorded: CallRecorder) -> None:
    dynamodb = _client(local_cloud, "dynamodb", "UnitFunction")
    sqs = _client(local_cloud, "sqs", "UnitFunction")
    _client(local_cloud, "sqs", None).list_queues()  # no app id: not attributed to a function
    dynamodb.create_table(
        TableName="unit-recorder",
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    dynamodb.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": "unit-recorder", "Item": {"id": {"S": "1"}}}},
            {
                "ConditionCheck": {
                    "TableName": "unit-recorder",
                    "Key": {"id": {"S": "2"}},
                    "ConditionExpression": "attribute_not_exists(id)",
                }
            },
        ]
    )
    url = sqs.create_queue(QueueName="unit-recorder")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="x")
    # The body was read by the recorder and still reached moto intact.
    assert sqs.receive_message(QueueUrl=url)["Messages"][0]["Body"] == "x"
    dynamodb.delete_table(TableName="unit-recorder")
    sqs.delete_queue(QueueUrl=url)

    mine = recorded.by_principal()["UnitFunction"]
    table = f"{TABLE}/unit-recorder"
    queue = f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:unit-recorder"
    assert {
        IamRequest("dynamodb:CreateTable", table),
        IamRequest("dynamodb:PutItem", table),
        IamRequest("dynamodb:ConditionCheckItem", table),
        IamRequest("sqs:SendMessage", queue),
        IamRequest("sqs:ReceiveMessage", queue),
    } <= mine
    assert IamRequest("dynamodb:TransactWriteItems", table) not in mine
    assert IamRequest("sqs:ListQueues", "*") in recorded.by_principal()[""]
    assert recorded.errors == []


def test_recorder_never_breaks_a_request() -> None:
    recorder = CallRecorder(ACCOUNT_ID)
    environ = {
        "HTTP_AUTHORIZATION": "AWS4-HMAC-SHA256 Credential=k/20240101/us-east-1/dynamodb/aws4_request, ...",
        "HTTP_X_AMZ_TARGET": "DynamoDB_20120810.GetItem",
        "CONTENT_LENGTH": "3",
        "wsgi.input": __import__("io").BytesIO(b"{}}"),
    }
    recorder.observe(environ)
    assert recorder.errors
    assert not recorder.requests
    assert environ["wsgi.input"].read() == b"{}}"


SAM = """
Transform: AWS::Serverless-2016-10-31
Parameters:
  Service: {Type: String, Default: svc}
  Stage: {Type: String, Default: dev}
Resources:
  Things:
    Type: AWS::DynamoDB::Table
    Properties:
      TableName: !Sub "${Service}-things-${Stage}"
      KeySchema: [{AttributeName: id, KeyType: HASH}]
      AttributeDefinitions: [{AttributeName: id, AttributeType: S}]
      BillingMode: PAY_PER_REQUEST
  Jobs:
    Type: AWS::SQS::Queue
    Properties: {QueueName: !Sub "${Service}-jobs-${Stage}"}
  Worker:
    Type: AWS::Serverless::Function
    Properties:
      PackageType: Image
      ImageUri: img:1
      Policies:
        - DynamoDBReadPolicy: {TableName: !Ref Things}
        - SQSSendMessagePolicy: {QueueName: !GetAtt Jobs.QueueName}
        - Statement:
            - Effect: Deny
              Action: dynamodb:Scan
              Resource: !GetAtt Things.Arn
"""


@pytest.fixture
def grants(tmp_path: Path) -> dict[str, list[Grant]]:
    """The grants of a small template that uses SAM policy templates and a Deny."""
    path = tmp_path / "template.yaml"
    path.write_text(SAM)
    tpl = load_template(path)
    return function_grants(translate(tpl, {}), Stack(tpl, "http://127.0.0.1"))


def test_policy_templates_resolve_to_local_arns(grants: dict[str, list[Grant]]) -> None:
    worker = grants["Worker"]
    table = f"{TABLE}/svc-things-dev"
    assert allowed(worker, IamRequest("dynamodb:GetItem", table))
    assert allowed(worker, IamRequest("dynamodb:Query", f"{table}/index/ByName"))
    assert allowed(worker, IamRequest("sqs:SendMessage", f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:svc-jobs-dev"))
    assert not allowed(worker, IamRequest("dynamodb:PutItem", table))
    assert not allowed(worker, IamRequest("dynamodb:GetItem", f"{TABLE}/other"))
    assert not allowed(worker, IamRequest("dynamodb:Scan", table)), "an explicit Deny wins"
    assert allowed(worker, IamRequest("logs:PutLogEvents", "*")), "AWSLambdaBasicExecutionRole"


def test_check_reports_missing_and_unexercised_permissions(grants: dict[str, list[Grant]]) -> None:
    table = f"{TABLE}/svc-things-dev"
    recorded = {
        "Worker": {IamRequest("dynamodb:GetItem", table), IamRequest("dynamodb:PutItem", table)},
        "local-tooling": {IamRequest("dynamodb:DeleteTable", table)},
    }
    excuse = Allowance("*", "logs:*", "*", "runtime")
    report = check(recorded, grants, [excuse, Allowance("Nobody", "x:Y", "*", "stale")])
    assert report.missing == [("Worker", IamRequest("dynamodb:PutItem", table))]
    unexercised = {(g.action, g.resource) for g in report.unexercised}
    assert ("dynamodb:Query", table) in unexercised
    assert ("sqs:SendMessage*", f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:svc-jobs-dev") in unexercised
    assert ("dynamodb:GetItem", table) not in unexercised
    assert all(not g.action.startswith("logs:") for g in report.unexercised)
    assert {reason for _, reason in report.excused} == {"runtime"}
    assert [a.reason for a in report.unused_allowances] == ["stale"]
    assert report.as_dict()["missing"] == [{"function": "Worker", "action": "dynamodb:PutItem", "resource": table}]


def test_allowlist_entries_give_reasons(tmp_path: Path) -> None:
    assert all(entry.reason for entry in load_allowlist())
    bad = tmp_path / "allow.yaml"
    bad.write_text("- {function: '*', action: 'x:Y'}\n")
    with pytest.raises(ValueError, match="without a reason"):
        load_allowlist(bad)
