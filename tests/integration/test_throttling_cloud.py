"""The local DynamoDB throttles a hot key as DynamoDB does: unit rules, the answers, botocore's retries, the report."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from botocore.exceptions import ClientError

from infra.local import throttling
from infra.local.paths import KEYS_PATH
from infra.local.template import Stack
from tests.support.throttles import single_attempt


@pytest.fixture
def hot(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A client without retries, against a cloud whose per-key limits are 1% of DynamoDB's (10 WCU, 30 RCU).

    The meter's clock stands still, so that every request of the test falls in one second.
    """
    monkeypatch.setattr(throttling.METER, "scale", 0.01)
    monkeypatch.setattr(throttling.METER, "clock", lambda: 7.0)
    return single_attempt(stack)


def put(dynamodb: Any, stack: Stack, key: str, size: int = 10) -> None:
    item = {"productId": {"S": key}, "pad": {"S": "x" * size}}
    dynamodb.put_item(TableName=stack.name("ProductsTable"), Item=item)


def units(stack: Stack, key: str) -> dict[str, Any]:
    rows = httpx.get(f"{stack.endpoint}{KEYS_PATH}", timeout=10).json()["keys"]
    return next(r for r in rows if r["table"] == stack.name("ProductsTable") and r["key"] == key)


def test_units_follow_dynamodbs_rules(stack: Stack) -> None:
    dynamodb = single_attempt(stack)
    table = stack.name("ProductsTable")
    put(dynamodb, stack, "big", size=2500)  # 2.5 KB: 3 write units
    assert units(stack, "big")["writeUnits"] == 3
    dynamodb.get_item(TableName=table, Key={"productId": {"S": "big"}})  # eventually consistent: half a unit
    dynamodb.get_item(TableName=table, Key={"productId": {"S": "big"}}, ConsistentRead=True)
    assert units(stack, "big")["readUnits"] == 1.5
    update = {
        "Update": {
            "TableName": table,
            "Key": {"productId": {"S": "big"}},
            "UpdateExpression": "SET n = :one",
            "ExpressionAttributeValues": {":one": {"N": "1"}},
        }
    }
    dynamodb.transact_write_items(TransactItems=[update])  # a transaction pays double: 2 x 3
    assert units(stack, "big")["writeUnits"] == 9
    with pytest.raises(ClientError):
        dynamodb.put_item(
            TableName=table, Item={"productId": {"S": "big"}}, ConditionExpression="attribute_not_exists(productId)"
        )
    assert units(stack, "big")["writeUnits"] == 12  # a failed condition still pays for the item it found


def test_a_hot_key_is_refused_as_dynamodb_refuses_it_and_other_keys_are_not(stack: Stack, hot: Any) -> None:
    codes: list[str] = []
    for _ in range(15):  # 15 writes of one unit against 10 a second
        try:
            put(hot, stack, "mug")
        except ClientError as exc:
            codes.append(exc.response["Error"]["Code"])
            answer: dict[str, Any] = dict(exc.response)  # the stubs predate throttlingReasons
    assert codes
    assert set(codes) == {"ThrottlingException"}
    (reason,) = answer["throttlingReasons"]  # what botocore parses from DynamoDB's ThrottlingException
    assert reason["reason"] == "TableWriteKeyRangeThroughputExceeded"
    assert reason["resource"].endswith(f":table/{stack.name('ProductsTable')}")
    put(hot, stack, "tea")  # another key, another partition: not throttled
    assert units(stack, "mug")["throttled"] == len(codes)


def test_a_transaction_on_a_hot_key_is_cancelled_with_a_throttling_reason(stack: Stack, hot: Any) -> None:
    table = stack.name("ProductsTable")
    for _ in range(10):
        put(hot, stack, "mug")
    item = {"Put": {"TableName": table, "Item": {"productId": {"S": "tea"}}}}
    hot_item = {
        "Update": {
            "TableName": table,
            "Key": {"productId": {"S": "mug"}},
            "UpdateExpression": "SET n = :one",
            "ExpressionAttributeValues": {":one": {"N": "1"}},
        }
    }
    with pytest.raises(ClientError) as raised:
        hot.transact_write_items(TransactItems=[item, hot_item])
    assert raised.value.response["Error"]["Code"] == "TransactionCanceledException"
    assert [r["Code"] for r in raised.value.response["CancellationReasons"]] == ["None", "ThrottlingError"]
    assert hot.get_item(TableName=table, Key={"productId": {"S": "tea"}}).get("Item") is None  # nothing applied


def test_botocores_own_retries_ride_out_the_throttle(stack: Stack, hot: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    for _ in range(10):
        put(hot, stack, "mug")  # this second's units are spent
    ticks = iter(range(1000))
    monkeypatch.setattr(throttling.METER, "clock", lambda: 7.0 + next(ticks) / 4)  # time moves with each request
    patient = single_attempt(stack, attempts=10)  # standard mode backs off; the next second serves it
    item = {"productId": {"S": "mug"}, "pad": {"S": "x"}}
    answer = patient.put_item(TableName=stack.name("ProductsTable"), Item=item)
    assert answer["ResponseMetadata"]["RetryAttempts"] >= 1
