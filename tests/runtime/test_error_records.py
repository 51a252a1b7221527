"""An unhandled error as AWS's runtime client records it: JSON when LoggingConfig says JSON (the template
does, for every function), and make run's text output reading that record back as one readable line."""

from __future__ import annotations

import io
import json

from app.domain.errors import InsufficientInventory
from infra.local.env import function_env
from infra.local.output import Output
from infra.local.runtime.bootstrap import error_of, error_record
from infra.local.template import Stack


def test_each_function_gets_the_log_format_and_level_lambda_sets_from_its_logging_config(stack: Stack) -> None:
    env = function_env(stack, "ValidateOrderFunction")
    assert env["AWS_LAMBDA_LOG_FORMAT"] == "JSON"
    assert env["AWS_LAMBDA_LOG_LEVEL"] == "INFO"


def _raised(exc: Exception) -> Exception:
    try:
        raise exc
    except Exception as caught:  # a real traceback for the record
        return caught


def test_in_json_every_error_is_the_runtime_clients_record_outcomes_included() -> None:
    exc = _raised(InsufficientInventory("not enough stock for mug"))
    error = {**error_of(exc), "requestId": "r-1"}
    record = json.loads(error_record(error, None, "JSON"))
    assert list(record) == ["timestamp", "level", "errorMessage", "errorType", "requestId", "stackTrace"]
    assert (record["level"], record["errorType"], record["requestId"]) == ("ERROR", "InsufficientInventory", "r-1")
    assert record["stackTrace"]  # as in CloudWatch: an expected outcome keeps its stack there too


def test_make_run_shows_the_json_record_as_one_line_or_stores_it_as_it_is() -> None:
    outcome = error_record({**error_of(_raised(InsufficientInventory("short"))), "requestId": "r"}, None, "JSON")
    fault = error_record({**error_of(_raised(KeyError("orderId"))), "requestId": "r"}, None, "JSON")
    text, as_json = io.StringIO(), io.StringIO()
    for line in (outcome, fault):
        Output(text, "text")(f"[CheckInventoryFunction] {line}")
        Output(as_json, "json")(f"[CheckInventoryFunction] {line}")
    shown = text.getvalue().splitlines()
    assert shown[0].endswith("[OUTCOME] InsufficientInventory: short")
    assert "[ERROR] KeyError: 'orderId'" in shown[1]
    assert all(line.startswith("    ") for line in shown[2:])  # the fault's stack, indented below it
    assert len(shown) > 2
    stored = [line.split("] ", 1)[1] for line in as_json.getvalue().splitlines()]
    assert stored == [outcome, fault]
