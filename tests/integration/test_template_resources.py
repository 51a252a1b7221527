"""Every table, queue and topic of the SAM template exists locally with the same definition."""

from __future__ import annotations

import json

from infra.local.provision import client
from infra.local.template import Stack


def _schema(keys: list[dict[str, str]]) -> list[tuple[str, str]]:
    return [(k["AttributeName"], k["KeyType"]) for k in keys]


def test_tables_match_the_template(stack: Stack) -> None:
    dynamodb = client(stack, "dynamodb")
    tables = stack.of_type("AWS::DynamoDB::Table")
    assert tables, "the template declares tables"
    assert sorted(dynamodb.list_tables()["TableNames"]) == sorted(stack.name(t) for t in tables)
    for logical, resource in tables.items():
        props = stack.resolve(resource["Properties"])
        live = dynamodb.describe_table(TableName=stack.name(logical))["Table"]
        assert _schema(live["KeySchema"]) == _schema(props["KeySchema"])
        assert {(a["AttributeName"], a["AttributeType"]) for a in live["AttributeDefinitions"]} == {
            (a["AttributeName"], a["AttributeType"]) for a in props["AttributeDefinitions"]
        }
        want = {g["IndexName"]: g for g in props.get("GlobalSecondaryIndexes", [])}
        have = {g["IndexName"]: g for g in live.get("GlobalSecondaryIndexes", [])}
        assert set(have) == set(want)
        for name, index in want.items():
            assert _schema(have[name]["KeySchema"]) == _schema(index["KeySchema"])
            assert have[name]["Projection"]["ProjectionType"] == index["Projection"]["ProjectionType"]
        assert live["BillingModeSummary"]["BillingMode"] == props["BillingMode"]
        ttl = props.get("TimeToLiveSpecification")
        if ttl:
            live_ttl = dynamodb.describe_time_to_live(TableName=stack.name(logical))["TimeToLiveDescription"]
            assert live_ttl["AttributeName"] == ttl["AttributeName"]


def test_queues_match_the_template(stack: Stack) -> None:
    sqs = client(stack, "sqs")
    queues = stack.of_type("AWS::SQS::Queue")
    assert queues
    for logical, resource in queues.items():
        props = stack.resolve(resource.get("Properties", {}))
        url = sqs.get_queue_url(QueueName=stack.name(logical))["QueueUrl"]
        assert url == stack.ref(logical)
        attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        assert attrs["QueueArn"] == stack.arn(logical)
        for key in ("VisibilityTimeout", "MessageRetentionPeriod", "DelaySeconds"):
            if key in props:
                assert attrs[key] == str(props[key]), (logical, key)
        if "RedrivePolicy" in props:
            live = json.loads(attrs["RedrivePolicy"])
            assert live["deadLetterTargetArn"] == props["RedrivePolicy"]["deadLetterTargetArn"]
            assert int(live["maxReceiveCount"]) == int(props["RedrivePolicy"]["maxReceiveCount"])


def test_topics_match_the_template(stack: Stack) -> None:
    sns = client(stack, "sns")
    topics = stack.of_type("AWS::SNS::Topic")
    assert topics
    live = {t["TopicArn"] for t in sns.list_topics()["Topics"]}
    assert {stack.ref(t) for t in topics} <= live


def test_function_environment_points_at_provisioned_resources(stack: Stack) -> None:
    from infra.local.env import function_env

    env = function_env(stack, "ApiFunction")
    assert env["USERS_TABLE"] in client(stack, "dynamodb").list_tables()["TableNames"]
    assert env["AWS_ENDPOINT_URL"] == stack.endpoint
    assert env["POWERTOOLS_SERVICE_NAME"] == "order-service"
