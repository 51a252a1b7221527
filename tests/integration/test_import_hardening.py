"""Hostile catalog imports: absurd values, foreign buckets, unreadable objects, wrong sizes, crashes.

Whatever arrives, an import ends COMPLETED or FAILED with a reason; it is never left RUNNING.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import app.services.catalog_import
from infra.local import payloads
from infra.local.template import Stack
from tests.support.import_helpers import Clock, event_for, put_object, start, upload, worker
from tests.support.tokens import Signer

HEADER = b"productId,name,price,currency,stock\n"


def status(client: TestClient, auth: Signer, import_id: str) -> dict[str, Any]:
    body: dict[str, Any] = client.get(f"/products/imports/{import_id}", headers=auth.admin()).json()
    return body


def outcomes(result: list[dict[str, Any]]) -> list[str]:
    return [r["outcome"] for r in result]


def test_a_number_too_long_for_int_is_one_row_error_and_the_rest_imports(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, client: TestClient, auth: Signer
) -> None:
    body = HEADER + b"huge,Huge,%s,USD,1\nlots,Lots,1,USD,%s\nafter,After,100,USD,2\n" % (b"9" * 5000, b"7" * 5000)
    import_id, url = start(client, auth, body)
    upload(url, body)
    assert outcomes(worker(stack, monkeypatch)(event_for(stack, import_id), Clock())) == ["completed"]
    report = status(client, auth, import_id)
    assert (report["status"], report["rowsImported"], report["rowsRejected"]) == ("COMPLETED", 1, 2)
    assert [(e["line"], e["reason"][:24]) for e in report["errors"]] == [
        (2, "price must be a whole nu"),
        (3, "stock must be a whole nu"),
    ]


def test_an_event_for_another_bucket_is_never_read(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, client: TestClient, auth: Signer
) -> None:
    body = HEADER + b"mug,Mug,100,USD,1\n"
    import_id, url = start(client, auth, body)
    upload(url, body)
    real = event_for(stack, import_id)
    forged = payloads.s3_object_created("someone-elses-bucket", f"imports/{import_id}.csv", "e", len(body))
    handler = worker(stack, monkeypatch)
    assert outcomes(handler(forged, Clock())) == ["ignored"]
    assert status(client, auth, import_id)["status"] == "PENDING"
    assert outcomes(handler(real, Clock())) == ["completed"]


def test_an_unreadable_object_never_claims_the_import(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, client: TestClient, auth: Signer
) -> None:
    body = HEADER + b"mug,Mug,100,USD,1\n"
    import_id, url = start(client, auth, body)
    bucket = stack.name("ImportsBucket")
    early = payloads.s3_object_created(bucket, f"imports/{import_id}.csv", "0" * 32, len(body))  # no object yet
    handler = worker(stack, monkeypatch)
    assert outcomes(handler(early, Clock())) == ["unreadable"]
    assert status(client, auth, import_id)["status"] == "PENDING"
    upload(url, body)
    assert outcomes(handler(event_for(stack, import_id), Clock())) == ["completed"]
    assert status(client, auth, import_id)["rowsImported"] == 1


def test_an_object_of_another_size_than_declared_fails_with_that_reason(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, client: TestClient, auth: Signer
) -> None:
    declared = HEADER + b"mug,Mug,100,USD,1\n"
    import_id, _ = start(client, auth, declared)
    put_object(stack, import_id, declared + b"extra,Extra,1,USD,1\n")  # the local S3 does not enforce the length
    assert outcomes(worker(stack, monkeypatch)(event_for(stack, import_id), Clock())) == ["failed"]
    report = status(client, auth, import_id)
    assert report["status"] == "FAILED"
    assert f"but {len(declared)} were declared" in report["reason"]


def test_an_unexpected_error_fails_the_import_with_a_reason(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, client: TestClient, auth: Signer
) -> None:
    body = HEADER + b"mug,Mug,100,USD,1\n"
    import_id, url = start(client, auth, body)
    upload(url, body)
    handler = worker(stack, monkeypatch)

    def broken(*args: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(app.services.catalog_import, "records", broken)
    assert outcomes(handler(event_for(stack, import_id), Clock())) == ["failed"]
    report = status(client, auth, import_id)
    assert (report["status"], report["reason"]) == (
        "FAILED",
        "the import stopped on an unexpected error (RuntimeError)",
    )


def test_a_malformed_continuation_message_is_one_line_and_redelivered(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    handler = worker(stack, monkeypatch)
    event = payloads.sqs_event("{not json", queue=stack.name("ImportContinueQueue"))
    caplog.clear()
    reply = handler(event, Clock())
    # Reported, not raised: SQS redelivers it and then parks it in ImportDeadLetterQueue.
    assert reply["batchItemFailures"] == [{"itemIdentifier": event["Records"][0]["messageId"]}]
    assert reply["imports"] == []
    (record,) = caplog.records  # one line, and no traceback in it
    assert record.getMessage() == "record failed"
    assert record.exc_info is None
    assert record.__dict__["error"] == "MalformedContinuation"


CELL = st.one_of(
    st.text(max_size=12),
    st.integers(min_value=-(10**6), max_value=10**30).map(str),
    st.sampled_from(["", " ", "\x00", "\u200b", "\u00b2", "9" * 5000, '"', "1e3", "USD", "mug"]),
)
ROW = st.lists(CELL, min_size=0, max_size=7)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(ROW, max_size=6), header=st.booleans())
def test_arbitrary_rows_always_end_completed_or_failed(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, client: TestClient, auth: Signer, rows: list[list[str]], header: bool
) -> None:
    text = "\n".join(",".join(cell.replace("\n", " ") for cell in row) for row in rows)
    body = (HEADER if header else b"") + text.encode("utf-8", "surrogatepass")
    import_id, _ = start(client, auth, body)
    put_object(stack, import_id, body)
    worker(stack, monkeypatch)(event_for(stack, import_id), Clock())
    report = status(client, auth, import_id)
    assert report["status"] in ("COMPLETED", "FAILED"), report
    if report["status"] == "COMPLETED":
        assert report["rowsImported"] + report["rowsRejected"] == report["rowsRead"]
