"""The local resolver of CloudFormation intrinsics, on a small inline template."""

from __future__ import annotations

from typing import Any

import pytest

from infra.local.template import ACCOUNT_ID, Stack

TEMPLATE: dict[str, Any] = {
    "Parameters": {
        "Service": {"Type": "String", "Default": "svc"},
        "Stage": {"Type": "String", "Default": "dev"},
        "Origins": {"Type": "CommaDelimitedList", "Default": "a, b"},
    },
    "Conditions": {"IsProd": {"Fn::Equals": [{"Ref": "Stage"}, "prod"]}},
    "Resources": {
        "Table": {"Type": "AWS::DynamoDB::Table", "Properties": {"TableName": {"Fn::Sub": "${Service}-t-${Stage}"}}},
        "Queue": {"Type": "AWS::SQS::Queue", "Properties": {}},
        "Topic": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": "topic"}},
        "Secret": {"Type": "AWS::SecretsManager::Secret", "Properties": {"Name": "sec"}},
        "Bucket": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": "bkt"}},
        "Thing": {"Type": "AWS::Custom::Thing", "Properties": {}},
    },
}


@pytest.fixture
def stack() -> Stack:
    return Stack(TEMPLATE, "http://local:1")


def test_refs_and_names(stack: Stack) -> None:
    assert stack.ref("Table") == "svc-t-dev"
    assert stack.ref("Queue") == f"http://local:1/{ACCOUNT_ID}/svc-Queue"
    assert stack.ref("Topic") == f"arn:aws:sns:us-east-1:{ACCOUNT_ID}:topic"
    assert stack.ref("Secret") == "sec"
    assert stack.ref("Origins") == ["a", "b"]
    assert stack.ref("AWS::AccountId") == ACCOUNT_ID
    assert stack.ref("AWS::StackName") == "svc-dev"
    assert stack.arn("Bucket") == "arn:aws:s3:::bkt"


def test_intrinsics(stack: Stack) -> None:
    assert stack.resolve({"Fn::GetAtt": ["Queue", "Arn"]}) == f"arn:aws:sqs:us-east-1:{ACCOUNT_ID}:svc-Queue"
    assert stack.resolve({"Fn::GetAtt": "Queue.QueueName"}) == "svc-Queue"
    assert stack.resolve({"Fn::GetAtt": ["Queue", "QueueUrl"]}) == stack.ref("Queue")
    assert stack.resolve({"Fn::Sub": "${Table.Arn}/index/*"}).endswith(":table/svc-t-dev/index/*")
    assert stack.resolve({"Fn::Sub": ["${X}-${AWS::Region}", {"X": {"Ref": "Stage"}}]}) == "dev-us-east-1"
    assert stack.resolve({"Fn::Join": [",", {"Ref": "Origins"}]}) == "a,b"
    assert stack.resolve({"Fn::If": ["IsProd", 1, 2]}) == 2
    assert stack.resolve({"Fn::Select": [1, {"Fn::Split": [",", "x,y"]}]}) == "y"
    assert stack.resolve({"Fn::Not": [{"Condition": "IsProd"}]}) is True
    assert stack.resolve({"Fn::Or": [False, {"Condition": "IsProd"}]}) is False
    assert stack.resolve({"Fn::And": [True, True]}) is True
    assert stack.resolve({"Key": [{"Ref": "Stage"}]}) == {"Key": ["dev"]}


def test_overrides_win(stack: Stack) -> None:
    prod = Stack(TEMPLATE, "http://local:1", overrides={"Stage": "prod"})
    assert prod.condition("IsProd") is True
    assert prod.name("Table") == "svc-t-prod"


def test_unsupported_lookups_fail_loudly(stack: Stack) -> None:
    with pytest.raises(KeyError):
        stack.arn("Thing")
    with pytest.raises(KeyError):
        stack.get_att("Table", "StreamArn")
