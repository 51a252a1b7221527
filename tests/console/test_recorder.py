"""The console's recorder: bounded history, logs attached to their invocation, the API's request records."""

from __future__ import annotations

import json

from infra.local.console.recorder import (
    EVENT_CHARS,
    INVOCATION_LINE_CHARS,
    LINES_PER_INVOCATION,
    RESULT_CHARS,
    Recorder,
    percentile,
)
from infra.local.runtime.worker import Invocation

CAUSE = {"kind": "source", "source": "OrderQueue"}


def finish(recorder: Recorder, request_id: str, event: object = None, error: dict[str, str] | None = None) -> None:
    outcome = Invocation(request_id, result={"ok": True}, error=error, duration_ms=float(len(request_id)))
    recorder.invoked("Fn", request_id, event if event is not None else {"id": request_id}, outcome, 1.0, CAUSE)


def test_history_keeps_the_latest_invocations_and_the_totals_since_the_start() -> None:
    recorder = Recorder(per_function=5)
    for index in range(12):
        finish(recorder, f"r-{index}", error={"errorType": "Boom", "errorMessage": "x"} if index % 4 == 0 else None)

    kept = recorder.invocations("Fn")
    assert [r.request_id for r in kept] == ["r-11", "r-10", "r-9", "r-8", "r-7"]  # newest first
    figures = recorder.figures("Fn")
    assert (figures.invocations, figures.errors) == (12, 3)
    assert kept[3].error == {"errorType": "Boom", "errorMessage": "x"}
    assert kept[3].result is None
    assert recorder.invocation("r-0") is None
    assert recorder.invocation("r-9") is kept[2]


def test_a_huge_event_is_clipped_and_says_how_much_was_left_out() -> None:
    recorder = Recorder()
    finish(recorder, "big", event={"blob": "x" * 100_000})

    (record,) = recorder.invocations("Fn")
    assert len(record.event) < EVENT_CHARS + 100
    assert record.event.endswith("more characters)")


def test_log_lines_join_the_invocation_they_were_written_in_and_are_capped() -> None:
    recorder = Recorder()
    recorder.logged("Fn", None, "between invocations")  # init output: no invocation owns it
    for index in range(LINES_PER_INVOCATION + 10):
        recorder.logged("Fn", "r-1", f"line {index}")
    recorder.logged("Fn", "r-2", "other")
    finish(recorder, "r-1")

    (record,) = recorder.invocations("Fn")
    assert record.logs[:2] == ["line 0", "line 1"]
    assert len(record.logs) == LINES_PER_INVOCATION
    assert record.mentions("line 3")
    assert not record.mentions("other")


def test_lines_of_invocations_that_never_report_are_forgotten() -> None:
    recorder = Recorder(per_function=3)
    for index in range(10):
        recorder.logged("Fn", f"lost-{index}", "x")
    recorder.settle()
    assert len(recorder._open) == 3


def test_the_tap_prints_keeps_lines_and_reads_the_apis_request_records() -> None:
    printed: list[str] = []
    recorder = Recorder(log_lines=3)
    sink = recorder.tap(printed.append)
    record = {"message": "request", "method": "POST", "path": "/orders", "status": 202, "ms": 12.5}
    record |= {"correlation_id": "c-1", "location": "/orders/o-1"}
    lines = ["[run] hello", f"[ApiFunction] {json.dumps(record, separators=(',', ':'))}", "no prefix", "[X] last"]
    for line in lines:
        sink(line)

    assert printed == lines
    assert [(line.source, line.text) for line in recorder.logs()] == [
        ("ApiFunction", lines[1].split("] ", 1)[1]),
        ("", "no prefix"),
        ("X", "last"),
    ]  # bounded: the oldest went
    (request,) = recorder.requests()
    assert (request.method, request.status, request.location, request.correlation_id) == (
        "POST",
        202,
        "/orders/o-1",
        "c-1",
    )
    assert request.at < recorder.logs()[0].at  # when it arrived, not when its record was written


def test_a_line_that_only_looks_like_a_request_record_is_just_a_line() -> None:
    recorder = Recorder()
    recorder.line('[ApiFunction] {"message":"request", "oops"')
    recorder.line('[ApiFunction] {"message":"request","method":"GET"}')
    assert len(recorder.logs()) == 2
    assert not recorder.requests()


def test_notifications_keep_subject_message_and_attributes() -> None:
    recorder = Recorder()
    attributes = {"userId": {"Type": "String", "Value": "ada"}}
    recorder.notification(
        {"MessageId": "m-1", "Subject": "Order confirmed", "Message": "o-1", "MessageAttributes": attributes}
    )
    (note,) = recorder.notifications()
    assert (note.subject, note.message, note.attributes) == ("Order confirmed", "o-1", {"userId": "ada"})


def test_percentiles_are_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert (percentile(values, 0.5), percentile(values, 0.99), percentile([], 0.5)) == (50.0, 99.0, None)
    assert percentile([7.0], 0.99) == 7.0


def test_a_flood_of_huge_invocations_stays_within_the_bound() -> None:
    recorder = Recorder(per_function=20)
    for index in range(100):
        request_id = f"r-{index}"
        for _ in range(LINES_PER_INVOCATION * 3):
            recorder.logged("Fn", request_id, "y" * 10_000)
        outcome = Invocation(request_id, result="z" * 100_000)
        recorder.invoked("Fn", request_id, {"blob": "x" * 100_000}, outcome, 1.0, CAUSE)

    kept = recorder.invocations("Fn")
    assert len(kept) == 20
    marker = len("… (10000000 more characters)")  # each clipped text says how much it lost
    limit = (
        EVENT_CHARS + RESULT_CHARS + LINES_PER_INVOCATION * INVOCATION_LINE_CHARS + marker * (LINES_PER_INVOCATION + 2)
    )
    assert max(len(r.event) + len(r.result or "") + sum(map(len, r.logs)) for r in kept) <= limit
    assert not recorder._open  # every invocation took its lines
