"""Logging, metrics and tracing with Powertools for AWS Lambda."""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit

logger = Logger(service=os.environ.get("POWERTOOLS_SERVICE_NAME", "order-service"))


def tracing_enabled() -> bool:
    """X-Ray tracing runs only inside Lambda, unless explicitly disabled."""
    if os.environ.get("POWERTOOLS_TRACE_DISABLED", "").lower() in ("1", "true"):
        return False
    return ("AWS_LAMBDA_FUNCTION_NAME" in os.environ and "_X_AMZN_TRACE_ID" in os.environ) or bool(
        os.environ.get("AWS_XRAY_DAEMON_ADDRESS")
    )


@lru_cache
def get_tracer() -> Any:
    """The X-Ray tracer, or None when tracing is off.

    Powertools' Tracer imports aws-xray-sdk and patches botocore at construction,
    which costs cold-start time for nothing when no X-Ray daemon is listening.
    """
    if not tracing_enabled():
        return None
    from aws_lambda_powertools import Tracer

    return Tracer()


def emit_metrics(values: dict[str, tuple[float, MetricUnit]], dimensions: dict[str, str] | None = None) -> None:
    """Write one CloudWatch EMF record with the given metrics."""
    metrics = EphemeralMetrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "order-service"))
    for name, (value, unit) in values.items():
        metrics.add_metric(name=name, unit=unit, value=value)
    for key, dimension in (dimensions or {}).items():
        metrics.add_dimension(name=key, value=dimension)
    metrics.flush_metrics()
