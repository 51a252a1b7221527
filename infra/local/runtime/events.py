"""Event payloads in the exact shapes AWS delivers to Lambda handlers."""

from __future__ import annotations

import base64
import hashlib
import time
import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote_plus, unquote_plus

from infra.local.template import ACCOUNT_ID

# Lambda's SQS record carries these system attributes, when SQS returns them.
_SQS_ATTRIBUTES = (
    "ApproximateReceiveCount",
    "SentTimestamp",
    "SenderId",
    "ApproximateFirstReceiveTimestamp",
    "SequenceNumber",
    "MessageGroupId",
    "MessageDeduplicationId",
    "AWSTraceHeader",
    "DeadLetterQueueSourceArn",
)


def sqs_record(message: dict[str, Any], queue_arn: str, region: str) -> dict[str, Any]:
    """One `Records[]` entry of a Lambda SQS event, from a ReceiveMessage message."""
    attributes = message.get("Attributes", {})
    record: dict[str, Any] = {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": {k: attributes[k] for k in _SQS_ATTRIBUTES if k in attributes},
        "messageAttributes": {k: _message_attribute(v) for k, v in message.get("MessageAttributes", {}).items()},
        "md5OfBody": message.get("MD5OfBody") or hashlib.md5(message["Body"].encode()).hexdigest(),  # noqa: S324
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }
    if message.get("MD5OfMessageAttributes"):
        record["md5OfMessageAttributes"] = message["MD5OfMessageAttributes"]
    return record


def _message_attribute(value: dict[str, Any]) -> dict[str, Any]:
    # Lambda spells SQS message attributes in camelCase and base64-encodes binary values.
    shaped: dict[str, Any] = {
        "stringListValues": list(value.get("StringListValues", [])),
        "binaryListValues": [_b64(v) for v in value.get("BinaryListValues", [])],
        "dataType": value["DataType"],
    }
    if "StringValue" in value:
        shaped["stringValue"] = value["StringValue"]
    if "BinaryValue" in value:
        shaped["binaryValue"] = _b64(value["BinaryValue"])
    return shaped


def _b64(value: bytes | str) -> str:
    raw = value if isinstance(value, bytes) else value.encode()
    return base64.b64encode(raw).decode()


def sqs_event(messages: list[dict[str, Any]], queue_arn: str, region: str) -> dict[str, Any]:
    """A Lambda SQS event for a batch of received messages."""
    return {"Records": [sqs_record(m, queue_arn, region) for m in messages]}


def scheduled_event(rule_arn: str, region: str, source: str = "aws.events") -> dict[str, Any]:
    """The "Scheduled Event" EventBridge sends when a schedule fires."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": source,
        "account": ACCOUNT_ID,
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [rule_arn],
        "detail": {},
    }


ENVELOPE_KEYS = ("version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail")


def eventbridge_event(raw: dict[str, Any], region: str) -> dict[str, Any]:
    """The standard envelope, in AWS's key order, from the JSON EventBridge put on the runtime's queue."""
    defaults: dict[str, Any] = {"version": "0", "account": ACCOUNT_ID, "region": region, "resources": [], "detail": {}}
    merged = {**defaults, **raw}
    ordered = {k: merged[k] for k in ENVELOPE_KEYS if k in merged}
    return {**ordered, **{k: v for k, v in merged.items() if k not in ordered}}


def s3_event(record: dict[str, Any], region: str) -> dict[str, Any]:
    """A Lambda S3 event with one record, in AWS's shape, from the record moto sent to the queue."""
    s3 = record.get("s3", {})
    bucket = s3.get("bucket", {})
    obj = s3.get("object", {})
    # S3 URL-encodes keys in events like a form ('+' for spaces) but keeps '/'.
    key = quote_plus(unquote_plus(str(obj.get("key", ""))), safe="/")
    shaped_object: dict[str, Any] = {"key": key, "size": int(obj.get("size", 0)), "eTag": obj.get("eTag", "")}
    if obj.get("versionId"):
        shaped_object["versionId"] = obj["versionId"]
    shaped_object["sequencer"] = obj.get("sequencer") or f"{time.time_ns():016X}"
    return {
        "Records": [
            {
                "eventVersion": record.get("eventVersion", "2.1"),
                "eventSource": "aws:s3",
                "awsRegion": record.get("awsRegion", region),
                "eventTime": record.get("eventTime") or datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                "eventName": record.get("eventName", "ObjectCreated:Put"),
                "userIdentity": {"principalId": f"AWS:{ACCOUNT_ID}"},
                "requestParameters": {"sourceIPAddress": "127.0.0.1"},
                "responseElements": {"x-amz-request-id": uuid.uuid4().hex[:16].upper(), "x-amz-id-2": uuid.uuid4().hex},
                "s3": {
                    "s3SchemaVersion": "1.0",
                    "configurationId": s3.get("configurationId", ""),
                    "bucket": {
                        "name": bucket.get("name", ""),
                        "ownerIdentity": {"principalId": ACCOUNT_ID},
                        "arn": bucket.get("arn") or f"arn:aws:s3:::{bucket.get('name', '')}",
                    },
                    "object": shaped_object,
                },
            }
        ]
    }
