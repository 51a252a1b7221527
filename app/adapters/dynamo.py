"""Shared DynamoDB helpers: (de)serialisation and cancellation reasons."""

from __future__ import annotations

from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def to_item(values: dict[str, Any]) -> dict[str, Any]:
    """Python values to a DynamoDB item."""
    return {k: _serializer.serialize(v) for k, v in values.items() if v is not None}


def from_item(item: dict[str, Any]) -> dict[str, Any]:
    """A DynamoDB item to Python values."""
    return {k: _deserializer.deserialize(v) for k, v in item.items()}


def error_code(exc: ClientError) -> str:
    """The AWS error code of a client error."""
    return str(exc.response.get("Error", {}).get("Code", ""))


def cancellation_codes(exc: ClientError) -> list[str]:
    """The per-item reason codes of a cancelled transaction ('None' where it passed)."""
    reasons = exc.response.get("CancellationReasons", [])
    return [str(r.get("Code", "None")) for r in reasons]
