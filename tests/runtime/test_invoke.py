"""Direct invocation: context, environment, logs, errors and timeouts, as Lambda reports them."""

from __future__ import annotations

from infra.local.runtime import LocalRuntime
from infra.local.template import Stack
from tests.conftest import Logs


def test_direct_invoke_gives_context_environment_and_prefixed_logs(
    rt: LocalRuntime, rt_stack: Stack, logs: Logs
) -> None:
    first = rt.invoke("ProbeEcho", {"hello": "world"})
    second = rt.invoke("ProbeEcho", {})

    assert first.ok, first.error
    result = first.result
    assert result["event"] == {"hello": "world"}
    assert result["greeting"] == "overridden"  # the function's own variable wins over Globals
    assert result["app_id"] == "ProbeEcho"
    assert result["function_name"] == rt_stack.name("ProbeEcho")
    assert result["arn"] == rt_stack.arn("ProbeEcho")
    assert result["request_id"] == first.request_id
    assert result["memory"] == "512"
    assert 0 < result["remaining"] <= 5000
    # The attributes of awslambdaric's LambdaContext (context.log wrote the line asserted below).
    assert result["context"] == [
        "aws_request_id",
        "client_context",
        "function_name",
        "function_version",
        "identity",
        "invoked_function_arn",
        "log_group_name",
        "log_stream_name",
        "memory_limit_in_mb",
        "tenant_id",
    ]
    # Warm: the same process and module state serve the next invocation.
    assert (second.result["pid"], second.result["calls"]) == (result["pid"], 2)
    assert "[ProbeEcho] echo handler says hi" in logs
    assert any(line.startswith(f"[ProbeEcho] REPORT RequestId: {first.request_id}") for line in logs)


def test_raising_handler_is_reported_like_lambda_and_the_worker_survives(rt: LocalRuntime, logs: Logs) -> None:
    failed = rt.invoke("ProbeEcho", {"raise": "no such user"})
    after = rt.invoke("ProbeEcho", {})

    assert not failed.ok
    assert failed.error is not None
    assert failed.error["errorType"] == "ValueError"
    assert failed.error["errorMessage"] == "no such user"
    assert any("handlers.py" in frame for frame in failed.error["stackTrace"])
    # One record, its traceback joined by CRs, as AWS's runtime client writes it.
    (record,) = [line for line in logs if line.startswith("[ProbeEcho] [ERROR] ValueError: no such user\r")]
    assert "\rTraceback (most recent call last):\r" in record
    assert after.ok
    assert after.result["calls"] == 2


def test_hung_handler_is_killed_at_its_timeout_and_replaced(rt: LocalRuntime) -> None:
    before = rt.invoke("ProbeSlow", {})
    hung = rt.invoke("ProbeSlow", {"sleep": 30})
    after = rt.invoke("ProbeSlow", {})

    assert hung.error is not None
    assert hung.error["errorType"] == "Sandbox.Timedout"
    assert "Task timed out after 1.00 seconds" in hung.error["errorMessage"]
    assert 1000 <= hung.duration_ms < 3000
    # A fresh environment: new process, module state from scratch, remaining time from the template's Timeout.
    assert after.ok
    assert after.result["pid"] != before.result["pid"]
    assert after.result["calls"] == 1
    assert 0 < after.result["remaining"] <= 1000


def test_unmarshallable_result_and_missing_handler_are_runtime_errors(rt_stack: Stack, logs: Logs) -> None:
    from dataclasses import replace

    from infra.local.runtime.functions import spec_of
    from infra.local.runtime.worker import FunctionPool

    spec = spec_of(rt_stack, "ProbeEcho")
    missing = FunctionPool(replace(spec, handler="tests.runtime.no_such_module.handler"), logs)
    outcome = missing.invoke({})
    missing.close()
    bad = FunctionPool(replace(spec, handler="tests.runtime.handlers.unmarshallable"), logs)
    unmarshalled = bad.invoke({})
    bad.close()

    assert outcome.error is not None
    assert outcome.error["errorType"] == "Runtime.ImportModuleError"
    assert unmarshalled.error is not None
    assert unmarshalled.error["errorType"] == "Runtime.MarshalError"
    assert "Unable to marshal response" in unmarshalled.error["errorMessage"]


def test_waiting_for_the_warm_up_returns_once_every_warmed_worker_finished_its_init(rt: LocalRuntime) -> None:
    rt.warm()
    assert rt.wait_warm() == len(rt.event_driven())  # one ready worker per event-driven function
    assert all(w._ready for k in rt.event_driven() for w in rt.pools[k]._idle)  # each said its init is over
