from __future__ import annotations

import json
import time

import pytest
from aws_lambda_powertools.metrics import MetricUnit

from app import observability


@pytest.fixture(autouse=True)
def _fresh_tracer() -> None:
    observability.get_tracer.cache_clear()


def test_tracer_is_off_outside_lambda(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_LAMBDA_FUNCTION_NAME", raising=False)
    monkeypatch.delenv("AWS_XRAY_DAEMON_ADDRESS", raising=False)
    assert observability.tracing_enabled() is False
    assert observability.get_tracer() is None


def test_tracer_is_on_in_lambda_unless_disabled(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "fn")
    monkeypatch.setenv("_X_AMZN_TRACE_ID", "Root=1-abc")
    monkeypatch.delenv("POWERTOOLS_TRACE_DISABLED", raising=False)
    assert observability.tracing_enabled() is True
    assert observability.get_tracer() is not None
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    assert observability.tracing_enabled() is False


def test_emit_metrics_writes_one_emf_record(capsys: pytest.CaptureFixture[str]) -> None:
    observability.emit_metrics({"OrdersPlaced": (2, MetricUnit.Count)}, {"Reason": "Test"})
    record = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert record["OrdersPlaced"] == [2.0]
    assert record["Reason"] == "Test"
    assert record["_aws"]["CloudWatchMetrics"][0]["Metrics"] == [{"Name": "OrdersPlaced", "Unit": "Count"}]


@pytest.mark.parametrize("service", ["order-service", None])
def test_the_request_record_is_the_emf_record_powertools_writes(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, service: str | None
) -> None:
    from aws_lambda_powertools.metrics import EphemeralMetrics

    if service is None:
        monkeypatch.delenv("POWERTOOLS_SERVICE_NAME", raising=False)
    else:
        monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", service)
    observability.logger.set_correlation_id("cid-1")
    fields: dict[str, object] = {"method": "GET", "route": "/users/{user_id}", "path": "/users/ada", "status": 200}
    metrics = {"UserRequestSuccess": (1.0, MetricUnit.Count), "UserRequestDuration": (1.25, MetricUnit.Milliseconds)}
    observability.request_record(fields, metrics)
    ours = json.loads(capsys.readouterr().out)

    reference = EphemeralMetrics(namespace="order-service", service=service)
    for name, (value, unit) in metrics.items():
        reference.add_metric(name=name, unit=unit, value=value)
    for key, data in {"level": "INFO", "message": "request", "correlation_id": "cid-1", **fields}.items():
        reference.add_metadata(key=key, value=data)
    reference.flush_metrics()
    expected = json.loads(capsys.readouterr().out)
    for record in (ours, expected):
        assert abs(record["_aws"].pop("Timestamp") / 1000 - time.time()) < 600
    assert ours == expected
