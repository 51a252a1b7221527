from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest
from aws_lambda_powertools.metrics import MetricUnit

from app import observability


def test_emit_metrics_writes_one_emf_record(capsys: pytest.CaptureFixture[str]) -> None:
    observability.emit_metrics({"OrdersPlaced": (2, MetricUnit.Count)}, {"Reason": "Test"})
    record = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert record["OrdersPlaced"] == [2.0]
    assert record["Reason"] == "Test"
    assert record["_aws"]["CloudWatchMetrics"][0]["Metrics"] == [{"Name": "OrdersPlaced", "Unit": "Count"}]


@pytest.fixture
def fresh_emf_names() -> Iterator[None]:
    """The service and namespace are read once per process: read them again around a test that changes them."""
    observability.emf_names.cache_clear()
    yield
    observability.emf_names.cache_clear()


@pytest.mark.usefixtures("fresh_emf_names")
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


def test_a_request_record_with_a_path_pydantic_core_refuses_is_still_one_json_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # An ASGI path is decoded with surrogate escapes; pydantic-core refuses a lone surrogate.
    fields: dict[str, object] = {"method": "GET", "route": "unmatched", "path": "/users/\udc80", "status": 404}
    observability.request_record(fields, {"UserRequestError": (1.0, MetricUnit.Count)}, "cid-2")
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1
    record = json.loads(lines[0])
    assert (record["path"], record["correlation_id"], record["UserRequestError"]) == ("/users/\udc80", "cid-2", [1.0])
