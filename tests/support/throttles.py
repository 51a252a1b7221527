"""A DynamoDB client of the tooling that makes a set number of attempts, to see throttles as they come."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from infra.local import throttling
from infra.local.provision import client
from infra.local.template import Stack


def single_attempt(stack: Stack, attempts: int = 1) -> Any:
    """The tooling's DynamoDB client, making `attempts` attempts in all (botocore's standard mode)."""
    tooling = client(stack, "dynamodb")
    config = tooling.meta.config.merge(Config(retries={"mode": "standard", "total_max_attempts": attempts}))
    return boto3.client(
        "dynamodb",
        endpoint_url=stack.endpoint,
        region_name=stack.region,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=config,
    )


def throttle(stack: Stack, monkeypatch: pytest.MonkeyPatch, key: str, refusals: int) -> None:
    """A product key written once, then refused `refusals` times: one write unit a second, and time stands still."""
    monkeypatch.setattr(throttling.METER, "scale", 0.001)  # one write unit a second per key
    monkeypatch.setattr(throttling.METER, "clock", lambda: 3.0)
    dynamodb = single_attempt(stack)
    item = {"TableName": stack.name("ProductsTable"), "Item": {"productId": {"S": key}}}
    dynamodb.put_item(**item)
    for _ in range(refusals):
        with pytest.raises(ClientError, match="ThrottlingException"):
            dynamodb.put_item(**item)
