"""Builders of real AWS event payloads (API Gateway, SQS, EventBridge, Step Functions)."""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any
from urllib.parse import urlencode

ACCOUNT = "123456789012"
REGION = "us-east-1"


def http_api_v2(
    method: str,
    path: str,
    *,
    body: Any = None,
    headers: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
    stage: str = "$default",
    base64_body: bool = False,
    authorizer: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """An API Gateway HTTP API (payload format 2.0) event; `authorizer` is the Lambda authorizer's context."""
    raw_path = path if stage == "$default" else f"/{stage}{path}"
    text = body if isinstance(body, str) or body is None else json.dumps(body)
    hdrs = {"host": "abc123.execute-api.us-east-1.amazonaws.com", "x-forwarded-proto": "https", **(headers or {})}
    if text is not None and "content-type" not in {k.lower() for k in hdrs}:
        hdrs["content-type"] = "application/json"
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": raw_path,
        "rawQueryString": urlencode(query or {}),
        "headers": hdrs,
        "requestContext": {
            "accountId": ACCOUNT,
            "apiId": "abc123",
            "domainName": hdrs["host"],
            "domainPrefix": "abc123",
            "http": {
                "method": method,
                "path": raw_path,
                "protocol": "HTTP/1.1",
                "sourceIp": "203.0.113.7",
                "userAgent": "pytest",
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": "$default",
            "stage": stage,
            "time": "26/Nov/2026:10:00:00 +0000",
            "timeEpoch": 1795687200000,
        },
        "isBase64Encoded": base64_body,
    }
    if query:
        event["queryStringParameters"] = query
    if authorizer is not None:
        event["requestContext"]["authorizer"] = {"lambda": authorizer}
    if text is not None:
        event["body"] = base64.b64encode(text.encode()).decode() if base64_body else text
    return event


def rest_api_v1(
    method: str,
    path: str,
    *,
    body: Any = None,
    headers: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
    stage: str = "prod",
) -> dict[str, Any]:
    """An API Gateway REST API (payload format 1.0, proxy integration) event."""
    text = body if isinstance(body, str) or body is None else json.dumps(body)
    hdrs = {"Host": "abc123.execute-api.us-east-1.amazonaws.com", "X-Forwarded-Proto": "https", **(headers or {})}
    if text is not None and "content-type" not in {k.lower() for k in hdrs}:
        hdrs["Content-Type"] = "application/json"
    return {
        "resource": "/{proxy+}",
        "path": path,
        "httpMethod": method,
        "headers": hdrs,
        "multiValueHeaders": {k: [v] for k, v in hdrs.items()},
        "queryStringParameters": query,
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} if query else None,
        "pathParameters": {"proxy": path.lstrip("/")},
        "stageVariables": None,
        "requestContext": {
            "accountId": ACCOUNT,
            "apiId": "abc123",
            "resourcePath": "/{proxy+}",
            "httpMethod": method,
            "path": f"/{stage}{path}",
            "stage": stage,
            "requestId": str(uuid.uuid4()),
            "identity": {"sourceIp": "203.0.113.7", "userAgent": "pytest"},
            "protocol": "HTTP/1.1",
        },
        "body": text,
        "isBase64Encoded": False,
    }


class LambdaContext:
    """The attributes of a Lambda context object that handlers use."""

    def __init__(self, function_name: str = "test-fn", remaining_ms: int = 30_000, memory_mb: int = 512) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{function_name}"
        self.memory_limit_in_mb = memory_mb
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = "2026/11/26/[$LATEST]abc"
        self._remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self) -> int:
        """The fixed time left that the test chose."""
        return self._remaining_ms


def rest_token_authorizer(authorization: str, method: str = "GET", path: str = "/users/u1") -> dict[str, Any]:
    """A REST API TOKEN authorizer event: the Authorization header's value and the method ARN."""
    return {
        "type": "TOKEN",
        "authorizationToken": authorization,
        "methodArn": f"arn:aws:execute-api:{REGION}:{ACCOUNT}:abc123/prod/{method}{path}",
    }


def http_api_request_authorizer(
    headers: dict[str, str], method: str = "GET", path: str = "/users/u1"
) -> dict[str, Any]:
    """An HTTP API REQUEST authorizer event, payload format 2.0 (simple responses)."""
    hdrs = {"host": "abc123.execute-api.us-east-1.amazonaws.com", **{k.lower(): v for k, v in headers.items()}}
    return {
        "version": "2.0",
        "type": "REQUEST",
        "routeArn": f"arn:aws:execute-api:{REGION}:{ACCOUNT}:abc123/$default/{method}{path}",
        "identitySource": [hdrs["authorization"]] if "authorization" in hdrs else [],
        "routeKey": "ANY /{proxy+}",
        "rawPath": path,
        "rawQueryString": "",
        "headers": hdrs,
        "requestContext": {
            "accountId": ACCOUNT,
            "apiId": "abc123",
            "domainName": hdrs["host"],
            "domainPrefix": "abc123",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "203.0.113.7",
                "userAgent": "pytest",
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": "ANY /{proxy+}",
            "stage": "$default",
            "time": "26/Nov/2026:10:00:00 +0000",
            "timeEpoch": 1795687200000,
        },
        "pathParameters": {"proxy": path.lstrip("/")},
    }


def sqs_record(body: str, *, queue: str = "order-service-orders-dev", receive_count: int = 1) -> dict[str, Any]:
    """One record of an SQS event as Lambda delivers it."""
    import hashlib

    return {
        "messageId": str(uuid.uuid4()),
        "receiptHandle": base64.b64encode(uuid.uuid4().bytes).decode(),
        "body": body,
        "attributes": {
            "ApproximateReceiveCount": str(receive_count),
            "SentTimestamp": "1795687200000",
            "SenderId": "AIDAEXAMPLE",
            "ApproximateFirstReceiveTimestamp": "1795687200001",
        },
        "messageAttributes": {},
        "md5OfBody": hashlib.md5(body.encode(), usedforsecurity=False).hexdigest(),
        "eventSource": "aws:sqs",
        "eventSourceARN": f"arn:aws:sqs:{REGION}:{ACCOUNT}:{queue}",
        "awsRegion": REGION,
    }


def sqs_event(*bodies: str | dict[str, Any], queue: str = "order-service-orders-dev") -> dict[str, Any]:
    """An SQS event source batch; dict bodies are JSON-encoded."""
    return {"Records": [sqs_record(b if isinstance(b, str) else json.dumps(b), queue=queue) for b in bodies]}


def sfn_task_input(order_id: str, error: str | None = None, cause: str = "") -> dict[str, Any]:
    """A Task state's input in the order workflow; after a Catch it carries `error` (ResultPath $.error)."""
    payload: dict[str, Any] = {"orderId": order_id}
    if error is not None:
        payload["error"] = {"Error": error, "Cause": cause}
    return payload


def eventbridge_event(
    detail_type: str,
    detail: dict[str, Any],
    *,
    event_id: str | None = None,
    time: str = "2026-11-26T10:00:00Z",
    source: str = "order-service",
    bus: str = "order-service-events-dev",
    rule: str = "order-service-order-processed-dev",
) -> dict[str, Any]:
    """An EventBridge event as a rule's Lambda target receives it (the standard envelope)."""
    return {
        "version": "0",
        "id": event_id or str(uuid.uuid4()),
        "detail-type": detail_type,
        "source": source,
        "account": ACCOUNT,
        "time": time,
        "region": REGION,
        "resources": [f"arn:aws:events:{REGION}:{ACCOUNT}:rule/{bus}/{rule}"],
        "detail": detail,
    }


def s3_object_created(bucket: str, key: str, etag: str, size: int) -> dict[str, Any]:
    """An S3 ObjectCreated:Put event as Lambda receives it (the key URL-encoded like S3 does)."""
    from urllib.parse import quote_plus

    return {
        "Records": [
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "awsRegion": REGION,
                "eventTime": "2026-11-26T10:00:00.000Z",
                "eventName": "ObjectCreated:Put",
                "userIdentity": {"principalId": f"AWS:{ACCOUNT}"},
                "requestParameters": {"sourceIPAddress": "127.0.0.1"},
                "responseElements": {"x-amz-request-id": "C3D13FE58DE4C810", "x-amz-id-2": "FMyUVURIY8"},
                "s3": {
                    "s3SchemaVersion": "1.0",
                    "configurationId": "CatalogImportFunctionUpload",
                    "bucket": {
                        "name": bucket,
                        "ownerIdentity": {"principalId": ACCOUNT},
                        "arn": f"arn:aws:s3:::{bucket}",
                    },
                    "object": {
                        "key": quote_plus(key, safe="/"),
                        "size": size,
                        "eTag": etag,
                        "sequencer": "0A1B2C3D4E5F",
                    },
                },
            }
        ]
    }
