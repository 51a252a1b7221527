"""Catalog import against the local cloud: API, presigned upload, worker, checkpoints, bad input."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient

from infra.local.provision import client as aws
from infra.local.template import Stack
from tests.support.import_helpers import (
    Clock,
    continuations,
    csv_file,
    event_for,
    put_object,
    ran,
    start,
    upload,
    worker,
)
from tests.support.tokens import Signer


def status(client: TestClient, auth: Signer, import_id: str) -> dict[str, Any]:
    response = client.get(f"/products/imports/{import_id}", headers=auth.admin())
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def product(client: TestClient, auth: Signer, product_id: str) -> dict[str, Any]:
    response = client.get(f"/products/{product_id}", headers=auth.admin())
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def imported(
    stack: Stack, mp: pytest.MonkeyPatch, client: TestClient, auth: Signer, body: bytes, **env: str
) -> tuple[str, dict[str, Any]]:
    import_id, url = start(client, auth, body)
    assert upload(url, body).status_code == 200
    result = worker(stack, mp, **env)(event_for(stack, import_id), Clock())
    assert [r["outcome"] for r in result] == ["completed"]
    return import_id, status(client, auth, import_id)


def test_happy_path_imports_every_row_and_reports_it(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, client: TestClient, auth: Signer
) -> None:
    body = b'productId,name,price,currency,stock\nmug,"Mug, large",1250,USD,10\ntea,Green tea,899,eur,0\n'
    _, report = imported(stack, monkeypatch, client, auth, body)
    assert report["status"] == "COMPLETED"
    assert (report["rowsRead"], report["rowsImported"], report["rowsRejected"]) == (2, 2, 0)
    assert report["errors"] == []
    mug = product(client, auth, "mug")
    assert (mug["name"], mug["price"], mug["currency"], mug["available"]) == ("Mug, large", 1250, "USD", 10)
    assert product(client, auth, "tea")["currency"] == "EUR"


def test_reimport_updates_existing_products_and_adds_their_stock(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, client: TestClient, auth: Signer
) -> None:
    client.put("/products/mug", json={"name": "Mug", "price": 1000, "currency": "USD"}, headers=auth.admin())
    client.post("/products/mug/restock", json={"quantity": 5}, headers=auth.admin())
    body = b"productId,name,price,currency,stock\nmug,Mug XL,1300,USD,7\nnew,New,5,USD,1\n"
    imported(stack, monkeypatch, client, auth, body)
    mug = product(client, auth, "mug")
    assert (mug["name"], mug["price"], mug["available"], mug["reserved"]) == ("Mug XL", 1300, 12, 0)
    # The first attempt (Put for both) was cancelled by mug's condition and rolled back: `new` got its stock once.
    assert product(client, auth, "new")["available"] == 1


def test_a_duplicate_event_imports_nothing_twice(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, client: TestClient, auth: Signer
) -> None:
    import_id, _ = imported(stack, monkeypatch, client, auth, csv_file(3, stock=4))
    handler = worker(stack, monkeypatch)
    again = handler(event_for(stack, import_id), Clock())
    assert [r["outcome"] for r in again] == ["duplicate"]
    assert product(client, auth, "p0")["available"] == 4
    assert status(client, auth, import_id)["rowsImported"] == 3


def test_checkpoint_and_continue_when_time_runs_short(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, client: TestClient, auth: Signer
) -> None:
    body = csv_file(25, stock=2)
    import_id, url = start(client, auth, body)
    upload(url, body)
    handler = worker(stack, monkeypatch, IMPORT_CHUNK_ROWS="10", IMPORT_RESERVE_MS="1000")
    # Half a second left after each chunk: less than the reserve, so every invocation does one chunk.
    first = handler(event_for(stack, import_id), Clock(start_ms=1500, step_ms=1000))
    assert first == [
        {"importId": import_id, "outcome": "continued", "rowsRead": 10, "rowsImported": 10, "rowsRejected": 0}
    ]
    assert status(client, auth, import_id)["status"] == "RUNNING"
    # The same S3 event delivered again meanwhile resumes from the checkpoint, never from the start.
    outcomes = []
    for _ in range(5):
        events = list(continuations(stack))
        if not events:
            break
        for event in events:
            outcomes += [r["outcome"] for r in ran(handler(event, Clock(start_ms=1500, step_ms=1000)))]
    assert outcomes == ["continued", "completed"]
    report = status(client, auth, import_id)
    assert (report["status"], report["rowsRead"], report["rowsImported"]) == ("COMPLETED", 25, 25)
    assert {product(client, auth, f"p{i}")["available"] for i in (0, 9, 10, 24)} == {2}


def test_a_redelivered_event_resumes_at_the_checkpoint(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, client: TestClient, auth: Signer
) -> None:
    body = csv_file(15, stock=3)
    import_id, url = start(client, auth, body)
    upload(url, body)
    handler = worker(stack, monkeypatch, IMPORT_CHUNK_ROWS="10", IMPORT_RESERVE_MS="1000")
    assert handler(event_for(stack, import_id), Clock(start_ms=1500, step_ms=1000))[0]["outcome"] == "continued"
    # S3 delivers the event a second time before the continuation runs: it finishes the import...
    assert handler(event_for(stack, import_id), Clock())[0]["outcome"] == "completed"
    # ...and the continuation, arriving late, finds nothing left to do.
    assert [ran(handler(e, Clock()))[0]["outcome"] for e in continuations(stack)] == ["duplicate"]
    assert {product(client, auth, f"p{i}")["available"] for i in range(15)} == {3}


BAD_ROWS = (
    b"productId,name,price,currency,stock\n"
    b"ok1,Fine,100,USD,1\n"
    b"neg,Negative,100,USD,-3\n"
    b"cents,Cents,12.50,USD,1\n"
    b"latin,Caf\xe9,100,USD,1\n"
    b'quoted,"Mug, ""large""",150,USD,2\n'
    b"short,Too few,100\n"
    b"\n"
    b"ok2,Also fine,200,usd,0\n"
)


def test_bad_rows_are_reported_with_their_line_and_good_rows_import(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, client: TestClient, auth: Signer
) -> None:
    _, report = imported(stack, monkeypatch, client, auth, BAD_ROWS)
    assert report["status"] == "COMPLETED"
    assert (report["rowsRead"], report["rowsImported"], report["rowsRejected"]) == (7, 3, 4)
    reasons = {e["line"]: e["reason"] for e in report["errors"]}
    assert set(reasons) == {3, 4, 5, 7}
    assert "stock must be a whole number from 0" in reasons[3]
    assert "price must be a whole number of minor units" in reasons[4]
    assert "not valid UTF-8" in reasons[5]
    assert "expected 5 columns" in reasons[7]
    assert product(client, auth, "quoted")["name"] == 'Mug, "large"'
    assert product(client, auth, "ok2")["available"] == 0


def test_a_wrong_header_is_an_error_on_line_1_and_rows_still_import(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, client: TestClient, auth: Signer
) -> None:
    _, report = imported(stack, monkeypatch, client, auth, b"id,title,cost,cur,qty\nh1,Hat,300,USD,2\n")
    assert report["errors"] == [
        {"line": 1, "reason": "wrong header: expected productId,name,price,currency,stock, got id,title,cost,cur,qty"}
    ]
    assert (report["rowsImported"], report["rowsRejected"]) == (1, 1)
    assert product(client, auth, "h1")["available"] == 2


def test_columns_in_another_order_are_read_by_name(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, client: TestClient, auth: Signer
) -> None:
    _, report = imported(stack, monkeypatch, client, auth, b"stock,PRODUCTID,name,currency,price\n4,r1,Ring,USD,999\n")
    assert report["errors"] == []
    ring = product(client, auth, "r1")
    assert (ring["price"], ring["available"]) == (999, 4)


def test_an_empty_file_completes_with_an_error(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, client: TestClient, auth: Signer
) -> None:
    _, report = imported(stack, monkeypatch, client, auth, b"")
    assert report["status"] == "COMPLETED"
    assert report["rowsRead"] == 0
    assert report["errors"][0]["line"] == 1
    assert "the file is empty" in report["errors"][0]["reason"]


def test_only_the_first_100_errors_are_kept(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, client: TestClient, auth: Signer
) -> None:
    body = b"productId,name,price,currency,stock\n" + b"".join(b"x%d,X,1.5,USD,1\n" % i for i in range(150))
    _, report = imported(stack, monkeypatch, client, auth, body)
    assert report["rowsRejected"] == 150
    assert [e["line"] for e in report["errors"]] == list(range(2, 102))


@pytest.mark.parametrize(
    ("body", "content_type", "reason"),
    [
        (b"%PDF-1.7\n...", "application/pdf", "the file is not CSV: its Content-Type is application/pdf"),
        (b"PK\x03\x04\x00\x00binary", "text/csv", "the file is not CSV: it holds binary data"),
    ],
)
def test_a_file_that_is_not_csv_fails_the_import(
    stack: Stack,
    monkeypatch: pytest.MonkeyPatch,
    client: TestClient,
    auth: Signer,
    body: bytes,
    content_type: str,
    reason: str,
) -> None:
    import_id, _ = start(client, auth, body)
    put_object(stack, import_id, body, content_type)
    assert worker(stack, monkeypatch)(event_for(stack, import_id), Clock())[0]["outcome"] == "failed"
    report = status(client, auth, import_id)
    assert report["status"] == "FAILED"
    assert report["reason"].startswith(reason)


def test_a_file_over_the_size_limit_fails_the_import(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, client: TestClient, auth: Signer
) -> None:
    import_id, _ = start(client, auth, b"x")
    put_object(stack, import_id, csv_file(50))
    assert worker(stack, monkeypatch, IMPORT_MAX_BYTES="100")(event_for(stack, import_id), Clock())
    report = status(client, auth, import_id)
    assert report["status"] == "FAILED"
    assert "the limit is 100" in report["reason"]


def test_the_upload_url_signs_the_csv_type_and_the_declared_size(
    stack: Stack, client: TestClient, auth: Signer
) -> None:
    body = csv_file(2)
    import_id, url = start(client, auth, body)
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    assert parts.path == f"/{stack.name('ImportsBucket')}/imports/{import_id}.csv"
    # S3 rejects a PUT whose signed headers differ (moto does not check SigV4 presigned signatures,
    # so the worker's own type and size checks are what the other tests exercise locally).
    assert query["X-Amz-SignedHeaders"] == ["content-length;content-type;host"]
    assert query["X-Amz-Expires"] == ["900"]
    assert upload(url, body).status_code == 200


def test_the_import_api_is_for_admins_and_checks_its_input(stack: Stack, client: TestClient, auth: Signer) -> None:
    too_big = client.post("/products/imports", json={"contentLength": 10**12}, headers=auth.admin())
    assert too_big.status_code == 422
    user = client.post("/products/imports", json={"contentLength": 5}, headers=auth.user("u1"))
    assert user.status_code == 403
    unknown = client.get(f"/products/imports/{'0' * 32}", headers=auth.admin())
    assert unknown.status_code == 404
    import_id, _ = start(client, auth, b"abc")
    assert status(client, auth, import_id)["status"] == "PENDING"


def test_events_for_other_keys_or_unknown_imports_are_ignored(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, client: TestClient, auth: Signer
) -> None:
    from infra.local import payloads

    bucket = stack.name("ImportsBucket")
    handler = worker(stack, monkeypatch)
    other = handler(payloads.s3_object_created(bucket, "imports/notes.csv", "e", 3), Clock())
    unknown = handler(payloads.s3_object_created(bucket, f"imports/{'a' * 32}.csv", "e", 3), Clock())
    assert [r["outcome"] for r in other + unknown] == ["ignored", "ignored"]


def test_a_file_replaced_during_the_import_fails_it(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, client: TestClient, auth: Signer
) -> None:
    body = csv_file(15)
    import_id, url = start(client, auth, body)
    upload(url, body)
    event = event_for(stack, import_id)
    handler = worker(stack, monkeypatch, IMPORT_CHUNK_ROWS="10", IMPORT_RESERVE_MS="1000")
    assert handler(event, Clock(start_ms=1500, step_ms=1000))[0]["outcome"] == "continued"
    put_object(stack, import_id, csv_file(15, prefix="q"))
    # The new object's own event is not this import's: it is bound to the first ETag.
    assert handler(event_for(stack, import_id), Clock())[0]["outcome"] == "other-object"
    assert [ran(handler(e, Clock()))[0]["outcome"] for e in continuations(stack)] == ["failed"]
    assert status(client, auth, import_id)["reason"] == "the file was replaced during the import"
    assert (
        aws(stack, "dynamodb")
        .get_item(TableName=stack.name("ProductsTable"), Key={"productId": {"S": "q0"}})
        .get("Item")
        is None
    )
