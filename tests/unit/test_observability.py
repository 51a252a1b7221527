from __future__ import annotations

import json

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
