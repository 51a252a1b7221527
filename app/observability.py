"""Logging, metrics and tracing with Powertools for AWS Lambda."""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit
from pydantic_core import PydanticSerializationError, to_json

logger = Logger(service=os.environ.get("POWERTOOLS_SERVICE_NAME", "order-service"))


def tracing_enabled() -> bool:
    """X-Ray tracing runs inside Lambda (decided at init: the trace id only exists per invocation).

    Off with POWERTOOLS_TRACE_DISABLED (the local runtime sets it: no X-Ray daemon listens there).
    """
    if os.environ.get("POWERTOOLS_TRACE_DISABLED", "").lower() in ("1", "true"):
        return False
    return "AWS_LAMBDA_FUNCTION_NAME" in os.environ or bool(os.environ.get("AWS_XRAY_DAEMON_ADDRESS"))


@lru_cache
def get_tracer() -> Any:
    """The X-Ray tracer, or None when tracing is off.

    Powertools' Tracer imports aws-xray-sdk and patches botocore at construction, so each boto3 call
    becomes a subsegment; nothing of it is imported when tracing is off.
    """
    if not tracing_enabled():
        return None
    from aws_lambda_powertools import Tracer

    return Tracer(patch_modules=("botocore",))


@contextmanager
def untraced() -> Iterator[None]:
    """Work that is no traffic (the init's priming requests): no X-Ray subsegment for it or its AWS calls."""
    if get_tracer() is None:
        yield
        return
    from aws_xray_sdk import global_sdk_config  # type: ignore[import-untyped]

    # Disabled, the SDK hands out dummy subsegments: nothing is recorded or sent, and no "missing segment"
    # warning is logged for the calls made before any invocation exists.
    was = global_sdk_config.sdk_enabled()
    global_sdk_config.set_sdk_enabled(False)
    try:
        yield
    finally:
        global_sdk_config.set_sdk_enabled(was)


def traced[Handler: Callable[..., Any]](handler: Handler) -> Handler:
    """A Lambda handler, in an X-Ray subsegment when tracing is on, that resumes the init's paused GC."""
    # Imported here, not at the top: importing app.coldstart pauses the GC, which only a handler module (which
    # imports it first) may do. The API under uvicorn imports this module and must keep its collector.
    from app import coldstart

    tracer = get_tracer()
    if tracer is not None:
        handler = tracer.capture_lambda_handler(handler, capture_response=False)
    return coldstart.until_first_reply(handler)


def request_record(
    fields: dict[str, Any], metrics: dict[str, tuple[float, MetricUnit]], correlation_id: str | None = None
) -> None:
    """The access log line of one request and its metrics, as one EMF record.

    CloudWatch reads the metrics from it and Logs Insights queries its fields like any log line: one
    write per request instead of a log record and a metrics record. Written here rather than through
    Powertools' Metrics, which validated and built it for 60 µs of a 230 µs request; a test holds the
    two records equal (tests/unit/test_observability.py). `correlation_id` defaults to the logger's.
    """
    service, namespace = emf_names()
    cid = logger.get_correlation_id() if correlation_id is None else correlation_id
    record: dict[str, Any] = {"service": service} if service else {}
    record["level"], record["message"], record["correlation_id"] = "INFO", "request", cid
    record.update(fields)
    definitions = []
    for name, (value, unit) in metrics.items():  # a loop: comprehensions cost a frame each, per request
        record[name] = [value]
        definitions.append((name, unit))
    rest = _encode(record)
    head = _emf_head(namespace, service, tuple(definitions))
    # One write: print() writes the newline separately, and Lambda's stdout flushes every write.
    sys.stdout.write(f'{{"_aws":{{"Timestamp":{int(time.time() * 1000)},{head}}},{rest[1:]}\n')


@lru_cache(maxsize=1)
def emf_names() -> tuple[str | None, str]:
    """The service and the metrics namespace, read from the environment once per process, as Powertools does."""
    return os.environ.get("POWERTOOLS_SERVICE_NAME"), os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "order-service")


def _encode(record: dict[str, Any]) -> str:
    """Compact JSON of a record: pydantic-core's encoder, or the standard one for what it refuses."""
    # pydantic-core (loaded already) takes 1 µs where `json` takes 3.6; it refuses lone surrogates, which an
    # ASGI path may hold, so those records take the standard library's escaping instead.
    try:
        return to_json(record, fallback=str).decode()
    except PydanticSerializationError:
        return _COMPACT.encode(record)


# One encoder for every record: `json.dumps` with `separators` builds a new one on each call.
_COMPACT = json.JSONEncoder(separators=(",", ":"), default=str)


@lru_cache(maxsize=64)
def _emf_head(namespace: str, service: str | None, metrics: tuple[tuple[str, MetricUnit], ...]) -> str:
    """The metric definitions of an EMF record: the same for every request with the same outcome."""
    definition = {
        "Namespace": namespace,
        "Dimensions": [["service"] if service else []],
        "Metrics": [{"Name": name, "Unit": unit.value} for name, unit in metrics],
    }
    # Half of a record's cost was serialising this part again for every request.
    return '"CloudWatchMetrics":' + _COMPACT.encode([definition])


def emit_metrics(values: dict[str, tuple[float, MetricUnit]], dimensions: dict[str, str] | None = None) -> None:
    """Write one CloudWatch EMF record with the given metrics."""
    metrics = EphemeralMetrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "order-service"))
    for name, (value, unit) in values.items():
        metrics.add_metric(name=name, unit=unit, value=value)
    for key, dimension in (dimensions or {}).items():
        metrics.add_dimension(name=key, value=dimension)
    metrics.flush_metrics()
