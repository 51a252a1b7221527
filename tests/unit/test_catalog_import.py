"""Catalog import units: row rules, CSV records from chunks, chunking, the chunk commit's retries."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError

from app.adapters.dynamodb.imports import DynamoImportRepository
from app.domain.catalog_import import COLUMNS, ImportProgress, header_columns, import_id_of, parse_row
from app.domain.errors import ServiceUnavailable, ValidationError
from app.services.catalog_import import ChunkBuilder, ImportLimits
from app.services.csv_records import MAX_LINE_BYTES, records
from app.services.ports.imports import Chunk, ImportSuperseded
from infra.local import payloads
from infra.local.runtime.events import s3_event
from workers.catalog_import import continuation, object_refs
from workers.sqs_batch import QueueMessage

T0 = datetime(2026, 11, 26, tzinfo=UTC)


def test_a_valid_row() -> None:
    row = parse_row(2, [" mug ", " Mug ", "1250", "usd", "0"])
    assert (row.line, row.product_id, row.name, row.price, row.currency, row.stock) == (2, "mug", "Mug", 1250, "USD", 0)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (["m", "Mug", "12.50", "USD", "1"], "price must be a whole number of minor units, e.g. 1250 for 12.50"),
        (["m", "Mug", "0", "USD", "1"], "price must be 1-"),
        (["m", "Mug", "1", "USD", "-2"], "stock must be a whole number from 0 to 1000000, got '-2'"),
        (["m", "Mug", "1", "USD", "2000000"], "stock must be a whole number from 0 to 1000000, got 2000000"),
        (["m", "Mug", "1", "US", "1"], "currency must be 3 letters"),
        (["m!", "Mug", "1", "USD", "1"], "productId must be"),
        (["m", " ", "1", "USD", "1"], "name must be 1-200 characters"),
        (["m", "Mug", "1"], "expected 5 columns"),
        (["m", "Mug", "9" * 5000, "USD", "1"], "price must be a whole number"),
        (["m", "Mug", "1", "USD", "1" * 5000], "stock must be a whole number"),
        (["m", "Mug", "\u00b2", "USD", "1"], "price must be a whole number"),
        (["m", "Mug", "1", "USD", "\u0661"], "stock must be a whole number"),
        (["m", "Mu\x00g", "1", "USD", "1"], "name must not contain control"),
        (["m", "Mug\x1b[31m", "1", "USD", "1"], "name must not contain control"),
        (["m", "\u200b", "1", "USD", "1"], "name must contain at least one visible character"),
    ],
)
def test_invalid_rows_say_why(fields: list[str], message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_row(3, fields)
    assert message in caught.value.detail


def test_every_bad_field_of_a_row_is_listed() -> None:
    with pytest.raises(ValidationError) as caught:
        parse_row(3, ["m", "Mug", "x", "USD", "-1"])
    assert caught.value.detail.count(";") == 1


def test_headers() -> None:
    assert header_columns(["productId", "name", "price", "currency", "stock"]) == COLUMNS
    assert header_columns([" STOCK", "name", "price", "currency", "productid"])[0] == "stock"  # type: ignore[index]
    assert header_columns(["productId", "name", "price", "currency"]) is None
    assert header_columns(["productId", "name", "price", "price", "stock"]) is None


def test_import_ids_come_only_from_import_keys() -> None:
    assert import_id_of(f"imports/{'a' * 32}.csv") == "a" * 32
    assert import_id_of("imports/../x.csv") is None
    assert import_id_of(f"other/{'a' * 32}.csv") is None


def _records(data: bytes, size: int) -> list[tuple[int, int, int, list[str] | None, str | None]]:
    chunks = [data[i : i + size] for i in range(0, len(data), size)]
    return [(r.line, r.last, r.end, r.fields, r.error) for r in records(chunks, 0, 0)]


@pytest.mark.parametrize("size", [1, 3, 64, 10_000])
def test_records_do_not_depend_on_chunk_boundaries(size: int) -> None:
    data = b'\xef\xbb\xbfa,b\r\n"x, y",2\n\n"multi\nline",3\nbad\xff\n' + b"z" * (MAX_LINE_BYTES + 1) + b"\nlast,1"
    assert _records(data, size) == [
        (1, 1, 8, ["a", "b"], None),
        (2, 2, 17, ["x, y", "2"], None),
        (3, 3, 18, [], None),
        (4, 5, 33, ["multi\nline", "3"], None),
        (6, 6, 38, None, "line is not valid UTF-8 (byte 0xff at column 4)"),
        (7, 7, 38 + MAX_LINE_BYTES + 2, None, f"line is longer than {MAX_LINE_BYTES} bytes"),
        (8, 8, 38 + MAX_LINE_BYTES + 8, ["last", "1"], None),
    ]


def test_an_unterminated_quote_rejects_its_lines_only() -> None:
    data = b'a,"open\n\xff\nok,1\n"never closed'
    assert _records(data, 4) == [
        (1, 1, 8, None, "unterminated quoted field"),
        (2, 2, 10, None, "line is not valid UTF-8 (byte 0xff at column 1)"),
        (3, 3, 15, ["ok", "1"], None),
        (4, 4, 28, None, "unterminated quoted field"),
    ]


def _long_record(size: int, multiline: bool) -> bytes:
    """A record `big,"..."` of exactly `size` bytes, its field holding an escaped quote (and newlines)."""
    body = bytearray(b'big,"a""b' + b"x" * (size - 10) + b'"')
    if multiline:
        body[4000 : len(body) - 2 : 4000] = b"\n" * len(body[4000 : len(body) - 2 : 4000])
    assert len(body) == size
    return bytes(body)


@pytest.mark.parametrize("multiline", [False, True])
@pytest.mark.parametrize("size", [MAX_LINE_BYTES, MAX_LINE_BYTES + 1, 10 * MAX_LINE_BYTES])
def test_an_oversized_quoted_field_rejects_its_record_alone(size: int, multiline: bool) -> None:
    record = _long_record(size, multiline)
    data = b"productId,name\n" + record + b'\nok1,A\nok2,"B, c"\n'
    got = [(r.line, r.fields, r.error) for r in records([data[i : i + 1024] for i in range(0, len(data), 1024)], 0, 0)]
    after = 2 + record.count(b"\n") + 1
    assert got[0] == (1, ["productId", "name"], None)
    assert got[2:] == [(after, ["ok1", "A"], None), (after + 1, ["ok2", "B, c"], None)]
    line, fields, error = got[1]
    assert line == 2
    if size <= MAX_LINE_BYTES and not (multiline and size // 4000 >= 20):
        assert error is None
        assert fields is not None
        assert fields[0] == "big"
        assert fields[1].startswith('a"b')
    else:
        assert fields is None
        assert error is not None
        assert "longer than" in error or "more than" in error


def test_an_unterminated_field_over_the_limit_is_one_record_to_the_end() -> None:
    data = b'a,b\nbig,"' + b"x" * (MAX_LINE_BYTES + 5) + b"\nok,1\n"
    assert [(r.line, r.last, r.error) for r in records([data], 0, 0)] == [
        (1, 1, None),
        (2, 3, "unterminated quoted field"),
    ]


def test_a_field_over_the_line_count_is_skipped_to_its_close() -> None:
    data = b'big,"' + b"l\n" * 30 + b'end"\nok,1\n'
    got = [(r.line, r.last, r.fields, r.error) for r in records([data], 0, 0)]
    assert got == [(1, 31, None, "record spans more than 20 lines"), (32, 32, ["ok", "1"], None)]


def test_records_resume_at_an_offset_with_line_numbers() -> None:
    assert [(r.line, r.fields) for r in records([b"c,3\n"], 8, 2)] == [(3, ["c", "3"])]


def test_a_chunk_never_holds_a_product_twice() -> None:
    data = b"productId,name,price,currency,stock\na,A,1,USD,1\nb,B,1,USD,1\na,A2,2,USD,1\n"
    builder = ChunkBuilder(ImportProgress(), ImportLimits(max_bytes=10**6, url_ttl_seconds=60, reserve_ms=0))
    chunks = list(builder.chunks(records([data], 0, 0)))
    assert [[r.product_id for r in c.rows] for c in chunks] == [["a", "b"], ["a"]]
    assert [c.done for c in chunks] == [False, True]
    assert chunks[0].progress.line == 3
    assert chunks[1].progress.rows_imported == 3


def test_long_reasons_are_cut_so_the_record_stays_small() -> None:
    data = b"productId,name,price,currency,stock\nm,Mug," + b"9" * 5000 + b".5,USD,1\n"
    limits = ImportLimits(max_bytes=10**6, url_ttl_seconds=60, reserve_ms=0)
    (chunk,) = ChunkBuilder(ImportProgress(), limits).chunks(records([data], 0, 0))
    assert len(chunk.errors[0].reason) == 300
    assert chunk.errors[0].reason.endswith("...")


class StubDynamo:
    """Answers transact_write_items with the given errors, then succeeds; records each request."""

    def __init__(self, *errors: ClientError) -> None:
        self.errors = list(errors)
        self.requests: list[list[dict[str, Any]]] = []
        self.tokens: list[str] = []

    def transact_write_items(self, TransactItems: list[dict[str, Any]], ClientRequestToken: str) -> None:
        self.requests.append(TransactItems)
        self.tokens.append(ClientRequestToken)
        if self.errors:
            raise self.errors.pop(0)


def cancelled(*codes: str) -> ClientError:
    response: Any = {
        "Error": {"Code": "TransactionCanceledException"},
        "CancellationReasons": [{"Code": c} for c in codes],
    }
    return ClientError(response, "TransactWriteItems")


def _chunk(rows: int) -> Chunk:
    data = b"productId,name,price,currency,stock\n" + b"".join(b"p%d,P,1,USD,1\n" % i for i in range(rows))
    limits = ImportLimits(max_bytes=10**6, url_ttl_seconds=60, reserve_ms=0)
    return next(ChunkBuilder(ImportProgress(), limits).chunks(records([data], 0, 0)))


def test_a_conflicting_chunk_is_retried_with_backoff() -> None:
    stub = StubDynamo(cancelled("None", "TransactionConflict"), cancelled("TransactionConflict", "None"))
    sleeps: list[float] = []
    repo = DynamoImportRepository(stub, "imports", "products", sleep=sleeps.append)
    repo.commit("i1", "e", ImportProgress(), _chunk(1), T0)
    assert len(stub.requests) == 3
    assert sleeps == [0.05, 0.1]
    # A cancelled transaction wrote nothing: its retry is a new request, under a new token.
    assert len(set(stub.tokens)) == 3


def test_a_moved_checkpoint_means_another_invocation_owns_the_import() -> None:
    repo = DynamoImportRepository(StubDynamo(cancelled("None", "ConditionalCheckFailed")), "imports", "products")
    with pytest.raises(ImportSuperseded):
        repo.commit("i1", "e", ImportProgress(), _chunk(1), T0)


def test_an_existing_product_is_updated_not_replaced() -> None:
    stub = StubDynamo(cancelled("ConditionalCheckFailed", "None", "None"))
    DynamoImportRepository(stub, "imports", "products").commit("i1", "e", ImportProgress(), _chunk(2), T0)
    first, second = stub.requests
    assert [next(iter(i)) for i in first] == ["Put", "Put", "Update"]
    assert [next(iter(i)) for i in second] == ["Update", "Put", "Update"]
    assert "ADD available :q, added :q" in second[0]["Update"]["UpdateExpression"]


def test_a_chunk_that_keeps_failing_raises_for_a_retry_of_the_invocation() -> None:
    conflicts = [cancelled("TransactionConflict", "None") for _ in range(6)]
    repo = DynamoImportRepository(StubDynamo(*conflicts), "imports", "products", sleep=lambda s: None)
    with pytest.raises(ServiceUnavailable):
        repo.commit("i1", "e", ImportProgress(), _chunk(1), T0)
    other = DynamoImportRepository(StubDynamo(cancelled("ValidationError", "None")), "imports", "products")
    with pytest.raises(ServiceUnavailable):
        other.commit("i1", "e", ImportProgress(), _chunk(1), T0)
    throttled = ClientError({"Error": {"Code": "ThrottlingException"}}, "TransactWriteItems")
    with pytest.raises(ClientError):
        DynamoImportRepository(StubDynamo(throttled), "imports", "products").commit(
            "i1", "e", ImportProgress(), _chunk(1), T0
        )


def test_the_runtime_shapes_s3_events_like_aws() -> None:
    moto_record = {
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": "us-east-1",
        "eventTime": "2026-11-26T15:31:17.021Z",
        "eventName": "ObjectCreated:Put",
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": "CatalogImportFunctionUpload",
            "bucket": {"name": "b", "arn": "arn:aws:s3:::b"},
            "object": {"key": "imports%2Fmy+file.csv", "size": 10, "eTag": "abc"},
        },
    }
    (record,) = s3_event(moto_record, "us-east-1")["Records"]
    assert record["s3"]["object"]["key"] == "imports/my+file.csv"
    assert set(record) == set(payloads.s3_object_created("b", "k", "e", 1)["Records"][0])
    assert set(record["s3"]["object"]) == {"key", "size", "eTag", "sequencer"}
    assert record["s3"]["bucket"]["ownerIdentity"] == {"principalId": "123456789012"}


def test_the_worker_reads_s3_records_and_continuations_and_skips_other_events() -> None:
    created = payloads.s3_object_created("b", "imports/a b.csv", "e1", 5)
    removed = payloads.s3_object_created("b", "imports/x.csv", "e2", 5)
    removed["Records"][0]["eventName"] = "ObjectRemoved:Delete"
    continued = payloads.sqs_event({"importId": "i", "bucket": "b", "key": "imports/c.csv", "eTag": "e3", "size": 7})
    refs = object_refs({"Records": created["Records"] + removed["Records"] + continued["Records"]})
    assert [(r.key, r.etag, r.size) for r in refs] == [("imports/a b.csv", "e1", 5)]
    (record,) = continued["Records"]
    ref = continuation(QueueMessage(record["messageId"], record["body"]))
    assert (ref.bucket, ref.key, ref.etag, ref.size) == ("b", "imports/c.csv", "e3", 7)
