"""The lines of an order's bill that no recorded request prices by itself: traces, keys, secrets, the edge.

Each is derived from the template and from the calls the cost run recorded, at a steady rate of
ORDERS_A_MONTH. Lines that bill by time rather than by order (a key cached for five minutes, a secret for
its max age) are spread over that month's orders: fewer orders a month make them dearer per order.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from infra.local.template import Stack

PRICES = Path(__file__).with_name("prices.json")
ORDERS_A_MONTH = 1_000_000
MONTH_SECONDS = 30 * 86_400
ORDERS_A_SECOND = ORDERS_A_MONTH / MONTH_SECONDS
# X-Ray's default sampling, which Lambda applies and no sampling rule changes for a function: the first
# request each second (the reservoir) and 5% of the rest
# (docs.aws.amazon.com/xray/latest/devguide/xray-console-sampling.html).
RESERVOIR_PER_SECOND = 1.0
FIXED_RATE = 0.05
# DynamoDB asks KMS for a table key again after five minutes of a caller's inactivity; SNS reuses a data key
# for up to five minutes per publishing principal, at two requests each (the DynamoDB and SNS developer guides,
# "encryption at rest: how it works" and "estimating AWS KMS costs"). Counted once per five minutes each: an
# upper bound for a busy caller, whose cached key does not lapse.
KEY_CACHE_SECONDS = 300
SNS_REQUESTS_PER_KEY = 2
BILLED_MS_MIN = 1  # Lambda bills each invocation's duration in 1 ms steps


@dataclass(frozen=True)
class Line:
    """One line of the bill: quantity per order, USD per million orders, and where both come from."""

    item: str
    quantity: float
    usd: float
    source: str


@cache
def prices() -> dict[str, Any]:
    """The dated price table, read once."""
    return dict(json.loads(PRICES.read_text()))


def rate_source(service: str) -> str:
    """The pricing page a rate was read from."""
    return str(prices()["sources"][service])


def traced_share(orders_a_second: float) -> float:
    """The share of requests X-Ray records at Lambda's fixed sampling, at a steady rate."""
    if orders_a_second <= RESERVOIR_PER_SECOND:
        return 1.0
    return (RESERVOIR_PER_SECOND + FIXED_RATE * (orders_a_second - RESERVOIR_PER_SECOND)) / orders_a_second


def xray(stack: Stack) -> Line:
    """One trace per order (SQS, Step Functions and EventBridge carry the API's trace on), when tracing is on."""
    p = prices()
    active = stack.parameter("TracingMode") == "Active"
    traces = traced_share(ORDERS_A_SECOND) if active else 0.0
    where = "TracingMode=Active" if active else "TracingMode=PassThrough, the default: nothing recorded"
    usd = traces * p["xray_trace_recorded_per_million"]
    return Line("X-Ray traces recorded", traces, usd, f"{rate_source('xray')}; {where}")


def authorizer(stack: Stack, billed_ms: float) -> list[Line]:
    """At most one BearerAuthorizer invocation per order: API Gateway caches its answer per token."""
    p = prices()
    ttl = _authorizer_ttl(stack)
    memory = int(stack.resources["AuthorizerFunction"]["Properties"].get("MemorySize", 256))
    gb_seconds = max(BILLED_MS_MIN, billed_ms) / 1000 * memory / 1024
    arch = str(stack.parameter("Architecture"))
    why = f"one per order at most (its answer is cached {ttl} s per token); {rate_source('lambda')}"
    return [
        Line("Lambda requests (authorizer)", 1.0, p["lambda_request_per_million"], why),
        Line("Lambda GB-seconds (authorizer)", gb_seconds, gb_seconds * 1e6 * p[f"lambda_gb_second_{arch}"], why),
    ]


def kms(trace: list[tuple[str, str, str, dict[str, Any]]], stack: Stack) -> Line:
    """KMS requests of the AWS managed keys on the order's path: DynamoDB tables and encrypted SNS topics."""
    p = prices()
    tables = stack.of_type("AWS::DynamoDB::Table").items()
    encrypted_tables = {stack.name(k) for k, r in tables if _sse_kms(stack.resolve(r.get("Properties", {})))}
    pairs = {(who, table) for who, service, _, params in trace if service == "dynamodb" for table in _tables(params)}
    table_keys = sum(1 for _, table in pairs if table in encrypted_tables)
    encrypted_topics = {stack.arn(k) for k, r in stack.of_type("AWS::SNS::Topic").items() if _topic_key(r)}
    publishers = {
        who for who, service, op, params in trace if service == "sns" and params.get("TopicArn") in encrypted_topics
    }
    per_month = MONTH_SECONDS / KEY_CACHE_SECONDS * (table_keys + SNS_REQUESTS_PER_KEY * len(publishers))
    requests = per_month / ORDERS_A_MONTH
    why = (
        f"{table_keys} (function, encrypted table) pairs and {len(publishers)} publisher(s) to an encrypted topic, "
        f"one key each per {KEY_CACHE_SECONDS} s; SQS uses its own keys (SSE-SQS, no KMS request); {rate_source('kms')}"
    )
    return Line(
        "KMS requests (AWS managed keys)", requests, requests * 1e6 * p["kms_request_per_ten_thousand"] / 1e4, why
    )


def secrets(stack: Stack, max_age: int) -> Line:
    """Secrets Manager reads, cached `max_age` seconds in each warm environment (one each at this rate)."""
    p = prices()
    secret_readers = len(_secret_grants(stack))
    per_month = MONTH_SECONDS / max_age * secret_readers
    calls = per_month / ORDERS_A_MONTH
    why = f"{secret_readers} (function, secret) pairs, each read once per {max_age} s; {rate_source('secretsmanager')}"
    return Line(
        "Secrets Manager API calls", calls, calls * 1e6 * p["secretsmanager_api_call_per_ten_thousand"] / 1e4, why
    )


def logs(bytes_per_order: float, system_level: str) -> Line:
    """CloudWatch Logs ingestion of what the order's functions wrote, as measured; platform records by level."""
    p = prices()
    gb = bytes_per_order / 1e9
    platform = "START/END/REPORT dropped at SystemLogLevel=WARN" if system_level == "WARN" else "platform records in"
    why = f"measured, JSON at the template's levels ({platform}); {rate_source('cloudwatch')}"
    return Line(
        "CloudWatch Logs ingestion (KB)", bytes_per_order / 1000, gb * 1e6 * p["cloudwatch_logs_ingestion_per_gb"], why
    )


def _authorizer_ttl(stack: Stack) -> int:
    bearer = stack.resources["HttpApi"]["Properties"]["Auth"]["Authorizers"]["BearerAuthorizer"]
    return int(bearer.get("Identity", {}).get("ReauthorizeEvery", 300))


def _secret_grants(stack: Stack) -> list[tuple[str, Any]]:
    """(function, secret) pairs the template grants secretsmanager:GetSecretValue on."""
    pairs: list[tuple[str, Any]] = []
    for name, function in stack.of_type("AWS::Serverless::Function").items():
        for policy in function.get("Properties", {}).get("Policies") or []:
            for statement in policy.get("Statement", []) if isinstance(policy, dict) else []:
                if statement.get("Action") == "secretsmanager:GetSecretValue":
                    resources = statement["Resource"]
                    pairs += [(name, r) for r in (resources if isinstance(resources, list) else [resources])]
    return pairs


def _sse_kms(properties: dict[str, Any]) -> bool:
    # SSEEnabled true without a key is the AWS managed key (aws/dynamodb); absent or false, an AWS owned key.
    return bool(properties.get("SSESpecification", {}).get("SSEEnabled"))


def _topic_key(topic: dict[str, Any]) -> bool:
    return bool(topic.get("Properties", {}).get("KmsMasterKeyId"))


def _tables(params: dict[str, Any]) -> set[str]:
    if "TableName" in params:
        return {str(params["TableName"])}
    if "RequestItems" in params:
        return set(params["RequestItems"])
    return {str(next(iter(item.values()))["TableName"]) for item in params.get("TransactItems", [])}


def batch_of(stack: Stack, function: str) -> float:
    """Messages per invocation of an SQS-triggered function at the steady rate: its batching window fills it.

    Lambda's poller gathers messages for MaximumBatchingWindowInSeconds (or until BatchSize), then invokes once
    and deletes the batch in one DeleteMessageBatch. At ORDERS_A_MONTH a window of W seconds gathers R x W
    messages (R, orders a second), at least one and at most the batch size. The cost run places orders one at a
    time, so each of its invocations carried one: this is what a steady month's batches carry instead.
    """
    events = stack.resources[function].get("Properties", {}).get("Events", {})
    sqs = [stack.resolve(e.get("Properties", {})) for e in events.values() if e.get("Type") == "SQS"]
    if not sqs:
        return 1.0
    size = float(sqs[0].get("BatchSize", 10))
    window = float(sqs[0].get("MaximumBatchingWindowInSeconds", 0))
    return max(1.0, min(size, ORDERS_A_MONTH / MONTH_SECONDS * window))


def consumers(stack: Stack) -> dict[str, str]:
    """Each queue's name (the last part of the URL SendMessage names) -> the function its mapping invokes."""
    found: dict[str, str] = {}
    for function, resource in stack.of_type("AWS::Serverless::Function").items():
        for event in resource.get("Properties", {}).get("Events", {}).values():
            queue = event.get("Properties", {}).get("Queue") if event.get("Type") == "SQS" else None
            if isinstance(queue, dict) and "Fn::GetAtt" in queue:
                found[stack.name(queue["Fn::GetAtt"][0])] = function
    return found
