"""What `make run` prints: readable lines, no metric blobs, expected outcomes in one line, no interleaving."""

from __future__ import annotations

import io
import json
import threading
from typing import Any

import pytest

from app.domain.errors import InsufficientInventory, ServiceUnavailable
from infra.local.output import Output
from infra.local.runtime import bootstrap

RECORD = {
    "level": "INFO",
    "location": "handler:12",
    "message": "order reconciled",
    "timestamp": "2026-11-30 10:00:00,000+0000",
    "service": "order-service",
    "cold_start": False,
    "correlation_id": "o-1",
    "orderId": "o-1",
    "status": "FAILED",
}
EMF = {"_aws": {"Timestamp": 1, "CloudWatchMetrics": [{"Namespace": "order-service", "Metrics": []}]}, "Orders": 1}


def printed(out: Output, *lines: str) -> str:
    for line in lines:
        out(line)
    assert isinstance(out.stream, io.StringIO)
    return out.stream.getvalue()


def test_a_json_record_is_one_line_with_time_function_level_message_and_its_fields() -> None:
    text = printed(Output(io.StringIO(), fmt="text"), f"[ReconcileOrderFunction] {json.dumps(RECORD)}")

    (line,) = text.splitlines()
    assert "ReconcileOrderFunction" in line
    assert "INFO   order reconciled" in line
    assert "orderId=o-1" in line
    assert "status=FAILED" in line
    assert "cid=o-1" in line
    assert "location" not in line
    assert "cold_start" not in line


def test_an_api_request_is_method_path_status_ms_and_correlation_id(capsys: pytest.CaptureFixture[str]) -> None:
    # The record the API writes per request: an access line that carries its metrics (EMF), shown even with
    # metrics hidden, without the metric fields.
    from aws_lambda_powertools.metrics import MetricUnit

    from app.observability import logger, request_record

    logger.set_correlation_id("c-9")
    fields = {"method": "POST", "route": "/users", "path": "/users", "status": 201, "ms": 12.5}
    request_record(fields, {"UserRequestSuccess": (1.0, MetricUnit.Count)})
    record = capsys.readouterr().out.strip()

    (line,) = printed(Output(io.StringIO(), fmt="text"), f"[ApiFunction] {record}").splitlines()

    assert "POST /users → 201 (12.5 ms)" in line
    assert line.endswith("cid=c-9")
    assert "UserRequestSuccess" not in line
    assert "_aws" not in line


def test_metric_records_are_hidden_unless_asked_for() -> None:
    line = f"[ProcessOrderFunction] {json.dumps(EMF)}"

    assert printed(Output(io.StringIO(), fmt="text", metrics=False), line) == ""
    assert "CloudWatchMetrics" in printed(Output(io.StringIO(), fmt="text", metrics=True), line)


def test_log_format_json_keeps_the_records_as_aws_writes_them() -> None:
    line = f"[ReconcileOrderFunction] {json.dumps(RECORD)}"

    assert printed(Output(io.StringIO(), fmt="json"), line) == line + "\n"


def test_concurrent_blocks_never_interleave() -> None:
    class Recorder(io.StringIO):
        """Yields the GIL between writes, so unlocked writers would interleave."""

        def write(self, text: str) -> int:
            for part in text.splitlines(keepends=True):
                super().write(part)
                threading.Event().wait(0.0005)
            return len(text)

    out = Output(Recorder(), fmt="text")
    blocks = [
        f"[notification] to u{i} (OrderConfirmed): Order confirmed\n    Total: $25.00\n    end-of-{i}"
        for i in range(10)
    ]
    threads = [threading.Thread(target=out, args=(block,)) for block in blocks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    lines = printed(out).splitlines()
    for i in range(10):
        head = next(n for n, line in enumerate(lines) if f"to u{i} " in line)
        assert lines[head + 1 : head + 3] == ["    Total: $25.00", f"    end-of-{i}"]


def _invoke(handler: Any) -> dict[str, Any]:
    request = {"id": "r-1", "event": {}, "deadline_ms": 2**62, "arn": "arn:aws:lambda:us-east-1:1:function:f"}
    return bootstrap._invoke(handler, None, request)


def test_an_expected_outcome_is_one_line_without_a_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    def out_of_stock(event: Any, context: Any) -> None:
        raise InsufficientInventory("only 1 of mug left")

    reply = _invoke(out_of_stock)

    assert reply["error"]["errorType"] == "InsufficientInventory"  # Step Functions still sees the error
    assert capsys.readouterr().err.splitlines() == ["[OUTCOME] InsufficientInventory: only 1 of mug left"]


@pytest.mark.parametrize("error", [RuntimeError("bug"), ServiceUnavailable("DynamoDB throttled")])
def test_an_unexpected_error_keeps_its_traceback(error: Exception, capsys: pytest.CaptureFixture[str]) -> None:
    def broken(event: Any, context: Any) -> None:
        raise error

    _invoke(broken)

    err = capsys.readouterr().err
    assert err.startswith(f"[ERROR] {type(error).__name__}")
    assert "Traceback (most recent call last)" in err


@pytest.mark.parametrize("control", ["\r", "\n", "\x0b", "\x0c", "\x1b[2J\x1b[31m", "\x85", "\u2028", "\u202e"])
def test_control_characters_in_a_path_or_a_field_never_reach_the_terminal_raw(control: str) -> None:
    forged = f"{control}12:00:00.000  ApiFunction  ERROR  FORGED"
    request = {"level": "INFO", "message": "request", "method": "GET", "path": f"/users/x{forged}", "status": 404}
    record = {**RECORD, "orderId": f"o-1{forged}", "message": f"order reconciled{forged}"}
    outcome = bootstrap.error_record({"errorType": "NotFound", "errorMessage": f"order o-1{forged}"}, None)
    out = Output(io.StringIO(), fmt="text")

    text = printed(out, f"[ApiFunction] {json.dumps(request)}", f"[Fn] {json.dumps(record)}", f"[Fn] {outcome}")

    assert all(ord(ch) >= 0x20 and ch not in "\x7f\x85\u2028\u202e" for ch in text.replace("\n", ""))
    # Three records, three lines that start with a time; a CR or LF of a message only ever continues its record.
    records = [line for line in text.split("\n") if line and not line.startswith("    ")]
    assert len(records) == 3
    assert not any(line.startswith("12:00:00.000") for line in text.split("\n"))


def test_a_traceback_record_prints_as_an_indented_block() -> None:
    try:
        raise RuntimeError("bad\nERROR FORGED")
    except RuntimeError as exc:
        record = bootstrap.error_record({"errorType": "RuntimeError", "errorMessage": str(exc)}, exc)

    lines = printed(Output(io.StringIO(), fmt="text"), f"[Fn] {record}").splitlines()

    assert "[ERROR] RuntimeError: bad" in lines[0]
    assert all(line.startswith(" ") for line in lines[1:])  # never at the start, where a record starts
    assert "    Traceback (most recent call last):" in lines
    assert "    ERROR FORGED" in lines
