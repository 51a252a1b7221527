"""AWS requests per order, counted end to end on the local cloud, priced from the dated table prices.json."""

from __future__ import annotations

import math
import re
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from infra.bench import bill, index_writes
from infra.bench.bill import Line, prices, rate_source
from infra.iam.recorder import MOTO_PRINCIPAL, parse
from infra.local.template import Stack

_REPORT = re.compile(r"^\[(\w+)\] REPORT RequestId: \S+ Duration: ([\d.]+) ms Memory Size: (\d+) MB")
_LINE = re.compile(r"^\[(\w+)\] (.*)$", re.DOTALL)
# What CloudWatch Logs counts of an event beside its message (PutLogEvents: "the sum of all event messages
# in UTF-8, plus 26 bytes for each log event"); counted as ingested, which makes the figure an upper bound.
EVENT_OVERHEAD_BYTES = 26


@dataclass
class CallLog:
    """A LocalCloud observer: (function, service, operation) counts and DynamoDB capacity units."""

    functions: set[str]
    # The simulated payment gateway's tables: a real provider replaces them, so their units are kept apart.
    gateway_tables: frozenset[str] = frozenset()
    # Each table's global secondary indexes (physical name -> indexes): their writes are billed as well.
    indexes: dict[str, tuple[index_writes.Index, ...]] = field(default_factory=dict)
    calls: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    rru: float = 0.0
    wru: float = 0.0
    gateway_rru: float = 0.0
    gateway_wru: float = 0.0
    index_wru: float = 0.0
    events: int = 0
    trace: list[tuple[str, str, str, dict[str, Any]]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def observe(self, environ: dict[str, Any]) -> None:
        """Count one request made by one of the template's functions."""
        try:
            call = parse(environ)
        except Exception:  # noqa: BLE001 - never fail the request being served
            return
        if call is None or call.principal == MOTO_PRINCIPAL or call.principal not in self.functions:
            return
        with self._lock:
            self.calls[(call.principal, call.service, call.operation)] += 1
            self.trace.append((call.principal, call.service, call.operation, call.params))
            if call.service == "dynamodb":
                reads, writes = capacity(call.operation, call.params)
                if call.params.get("TableName") in self.gateway_tables:
                    self.gateway_rru += reads
                    self.gateway_wru += writes
                else:
                    self.rru += reads
                    self.wru += writes
                    self.index_wru += index_writes.units(call.operation, call.params, self.indexes)
            if call.service == "events" and call.operation == "PutEvents":
                self.events += len(call.params.get("Entries", []))

    def clear(self) -> None:
        """Forget everything counted so far."""
        with self._lock:
            self.calls.clear()
            self.trace.clear()
            self.rru = self.wru = self.gateway_rru = self.gateway_wru = self.index_wru = 0.0
            self.events = 0


def capacity(operation: str, params: dict[str, Any]) -> tuple[float, float]:
    """On-demand read and write request units of one DynamoDB call (items under 1 KB, as ours are)."""
    read = 1.0 if params.get("ConsistentRead") else 0.5
    if operation in ("GetItem", "Query", "Scan"):
        return read, 0.0
    if operation == "BatchGetItem":
        items = params.get("RequestItems", {}).values()
        return sum(len(t.get("Keys", [])) * (1.0 if t.get("ConsistentRead") else 0.5) for t in items), 0.0
    if operation == "TransactGetItems":
        return 2.0 * len(params.get("TransactItems", [])), 0.0
    if operation == "TransactWriteItems":
        return 0.0, 2.0 * len(params.get("TransactItems", []))
    if operation == "BatchWriteItem":
        return 0.0, float(sum(len(v) for v in params.get("RequestItems", {}).values()))
    if operation in ("PutItem", "UpdateItem", "DeleteItem"):
        return 0.0, 1.0
    return 0.0, 0.0


@dataclass
class Invocations:
    """A log sink of the local runtime: each function's REPORT lines (duration, memory) and its log bytes."""

    functions: frozenset[str]
    reports: list[tuple[str, float, int]] = field(default_factory=list)
    log_bytes: Counter[str] = field(default_factory=Counter)

    def __call__(self, line: str) -> None:
        """Keep REPORT lines and count the bytes of every line a function wrote (what CloudWatch stores)."""
        match = _REPORT.match(line)
        if match:
            self.reports.append((match.group(1), float(match.group(2)), int(match.group(3))))
            return
        written = _LINE.match(line)
        if written and written.group(1) in self.functions:
            self.log_bytes[written.group(1)] += len(written.group(2).encode()) + EVENT_OVERHEAD_BYTES

    def clear(self) -> None:
        """Forget everything kept so far."""
        self.reports.clear()
        self.log_bytes.clear()


@dataclass
class Executions:
    """The order workflow's executions of a run: how many, their state transitions and durations (ms)."""

    count: int
    transitions: int
    durations_ms: list[float]


def workflow_rows(executions: Executions, orders: int, workflow: str) -> list[Line]:
    """The saga's price per million orders as a Standard or as an Express workflow, from the same executions."""
    p = prices()
    per = 1 / orders
    if workflow == "STANDARD":
        transitions = executions.transitions * per
        usd = transitions * 1000 * p["stepfunctions_standard_transition_per_thousand"]
        return [Line("Step Functions state transitions (Standard)", transitions, usd, _measured("stepfunctions"))]
    step = p["stepfunctions_express_duration_increment_ms"]
    billed_ms = sum(math.ceil(ms / step) * step for ms in executions.durations_ms)
    # Express bills the memory an execution uses in 64 MB chunks; this saga's state is a few hundred bytes.
    gb_seconds = billed_ms / 1000 * p["stepfunctions_express_memory_chunk_mb"] / 1024 * per
    requests = executions.count * per
    return [
        Line(
            "Step Functions Express requests",
            requests,
            requests * p["stepfunctions_express_request_per_million"],
            _measured("stepfunctions"),
        ),
        Line(
            "Step Functions Express GB-seconds",
            gb_seconds,
            gb_seconds * 1e6 * p["stepfunctions_express_gb_second"],
            _measured("stepfunctions"),
        ),
    ]


def price_per_million(
    log: CallLog,
    invocations: list[tuple[str, float, int]],
    executions: Executions,
    orders: int,
    workflow: str = "STANDARD",
    architecture: str = "x86_64",
    stack: Stack | None = None,
) -> list[Line]:
    """The recorded requests of one order, priced per million orders, largest first.

    With the stack, an SQS-triggered function's invocations and its queue's deletes are those of the batches its
    batching window gathers at the steady rate (bill.batch_of); without it, one message per batch.
    """
    p = prices()
    per = 1 / orders

    def batch(function: str) -> float:
        return bill.batch_of(stack, function) if stack is not None else 1.0

    lambda_requests = sum(1 / batch(name) for name, _, _ in invocations) * per
    gb_seconds = sum(ms / 1000 * mb / 1024 for _, ms, mb in invocations) * per
    # Each message sent is also received (a long poll returns it as it arrives: one receive each, an upper bound)
    # and deleted with its batch (one DeleteMessageBatch per invocation).
    consumers = bill.consumers(stack) if stack is not None else {}
    sent = [
        str(params.get("QueueUrl", ""))
        for _, service, op, params in log.trace
        if (service, op) == ("sqs", "SendMessage")
    ]
    deletes = sum(
        1 / batch(consumers[u.rsplit("/", 1)[-1]]) if u.rsplit("/", 1)[-1] in consumers else 1.0 for u in sent
    )
    sqs = (2 * len(sent) + deletes) * per
    sns = sum(n for (_, service, op), n in log.calls.items() if service == "sns" and op == "Publish") * per
    api = sum(1 for name, _, _ in invocations if name == "ApiFunction") * per
    wru, rru, iwru = log.wru * per, log.rru * per, log.index_wru * per
    rows = [
        Line(
            "Lambda requests",
            lambda_requests,
            lambda_requests * p["lambda_request_per_million"],
            f"recorded, a queue's consumer once per batch at the steady rate; {rate_source('lambda')}",
        ),
        Line(
            "Lambda GB-seconds",
            gb_seconds,
            gb_seconds * 1e6 * p[f"lambda_gb_second_{architecture}"],
            _measured("lambda"),
        ),
        Line(
            "API Gateway HTTP API requests",
            api,
            api * p["api_gateway_http_request_per_million"],
            _measured("api_gateway"),
        ),
        Line(
            "DynamoDB write request units",
            wru,
            wru * p["dynamodb_write_request_unit_per_million"],
            _measured("dynamodb"),
        ),
        Line(
            "DynamoDB index write request units",
            iwru,
            iwru * p["dynamodb_write_request_unit_per_million"],
            f"recorded writes, each index's projection from the template; {rate_source('dynamodb')}",
        ),
        Line(
            "DynamoDB read request units", rru, rru * p["dynamodb_read_request_unit_per_million"], _measured("dynamodb")
        ),
        Line(
            "SQS requests (incl. poller receive+delete)",
            sqs,
            sqs * p["sqs_request_per_million"],
            f"recorded sends, each received once and deleted with its batch; {rate_source('sqs')}",
        ),
        *workflow_rows(executions, orders, workflow),
        Line(
            "EventBridge events",
            log.events * per,
            log.events * per * p["eventbridge_custom_event_per_million"],
            _measured("eventbridge"),
        ),
        Line("SNS publishes", sns, sns * p["sns_publish_per_million"], _measured("sns")),
    ]
    return sorted(rows, key=lambda row: row.usd, reverse=True)


def gateway_line(log: CallLog, orders: int) -> Line:
    """The simulated payment gateway's own ledger writes and reads, apart from the service's bill."""
    p = prices()
    wru, rru = log.gateway_wru / orders, log.gateway_rru / orders
    usd = wru * p["dynamodb_write_request_unit_per_million"] + rru * p["dynamodb_read_request_unit_per_million"]
    return Line("Simulated payment gateway (DynamoDB write + read units)", wru + rru, usd, _measured("dynamodb"))


def _measured(service: str) -> str:
    return f"recorded; {rate_source(service)}"


def prices_as_of() -> str:
    """The date and source line of the price table."""
    p = prices()
    return f"{p['region']} list prices as of {p['as_of']}, from {p['source']}; {p['checked']}"
