"""The state folder: what `make run` keeps across restarts, and a crash never leaves it unloadable."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from moto.dynamodb.models.dynamo_type import DynamoType, Item

from infra.local import table_writes
from infra.local.cloud import LocalCloud
from infra.local.provision import client, provision
from infra.local.state import SAVE_SPACING, SNAPSHOT, Snapshot, StateStore, mutates, next_wait, remaining_delay
from infra.local.table_copies import SNAPSHOT_PAGE
from infra.local.table_writes import Journal
from infra.local.template import Stack, load_template
from tests.conftest import Logs

ITEM = {"id": {"S": "ada"}, "name": {"S": "Ada"}}


def fresh(local_cloud: LocalCloud) -> Stack:
    """The local cloud as a restarted `make run` finds it: empty, provisioned from the template."""
    local_cloud.reset()
    stack = Stack(load_template(), local_cloud.endpoint)
    provision(stack)
    return stack


def fill(stack: Stack) -> dict[str, str]:
    """One of everything the state folder keeps; the queue URLs."""
    client(stack, "dynamodb").put_item(TableName=stack.name("UsersTable"), Item=ITEM)
    s3 = client(stack, "s3")
    s3.put_object(Bucket=stack.name("ImportsBucket"), Key="imports/a b.csv", Body=b"\x00csv", ContentType="text/csv")
    sqs = client(stack, "sqs")
    dlq = sqs.get_queue_url(QueueName=stack.name("OrderDeadLetterQueue"))["QueueUrl"]
    queue = sqs.get_queue_url(QueueName=stack.name("OrderQueue"))["QueueUrl"]
    attributes = {"kind": {"DataType": "String", "StringValue": "poison"}}
    sqs.send_message(QueueUrl=dlq, MessageBody='{"orderId": "o-dead"}', MessageAttributes=attributes)
    sqs.send_message(QueueUrl=queue, MessageBody='{"orderId": "o-in-flight"}')
    sqs.receive_message(QueueUrl=queue, VisibilityTimeout=600)  # in flight when the snapshot is taken
    client(stack, "secretsmanager").put_secret_value(SecretId=stack.name("JwtSecret"), SecretString="kept-secret")
    return {"dlq": dlq, "queue": queue}


def restarted(local_cloud: LocalCloud, stack: Stack, state: Path) -> Stack:
    """Save the state, start the local cloud afresh and restore it, as a restarted `make run` does."""
    StateStore(stack, state).save()
    stack = fresh(local_cloud)
    store = StateStore(stack, state)
    snapshot = store.load()
    assert snapshot is not None
    store.restore(snapshot)
    return stack


def test_a_snapshot_restores_items_objects_messages_and_secrets(local_cloud: LocalCloud, tmp_path: Path) -> None:
    stack = fresh(local_cloud)
    fill(stack)
    stack = restarted(local_cloud, stack, tmp_path)

    got = client(stack, "dynamodb").get_item(TableName=stack.name("UsersTable"), Key={"id": ITEM["id"]})
    assert got["Item"] == ITEM
    body = client(stack, "s3").get_object(Bucket=stack.name("ImportsBucket"), Key="imports/a b.csv")
    assert (body["Body"].read(), body["ContentType"]) == (b"\x00csv", "text/csv")
    sqs = client(stack, "sqs")
    urls = {k: sqs.get_queue_url(QueueName=stack.name(k))["QueueUrl"] for k in ("OrderDeadLetterQueue", "OrderQueue")}
    dead = sqs.receive_message(QueueUrl=urls["OrderDeadLetterQueue"], MessageAttributeNames=["All"])["Messages"]
    assert [(m["Body"], m["MessageAttributes"]["kind"]["StringValue"]) for m in dead] == [
        ('{"orderId": "o-dead"}', "poison")
    ]
    in_flight = sqs.receive_message(QueueUrl=urls["OrderQueue"])["Messages"]
    assert [m["Body"] for m in in_flight] == ['{"orderId": "o-in-flight"}']  # visible again, not lost
    secret = client(stack, "secretsmanager").get_secret_value(SecretId=stack.name("JwtSecret"))
    assert secret["SecretString"] == "kept-secret"


def test_every_attribute_type_survives_a_restart(local_cloud: LocalCloud, tmp_path: Path) -> None:
    # The snapshot reads moto's tables in place: each type must come back as it was written, binary ones too.
    stack = fresh(local_cloud)
    item = {
        "id": {"S": "typed"},
        "n": {"N": "1.5"},
        "b": {"B": b"\x00\xff"},
        "bs": {"BS": [b"\x01", b"\x02"]},
        "ss": {"SS": ["a", "b"]},
        "ns": {"NS": ["1", "2"]},
        "ok": {"BOOL": True},
        "none": {"NULL": True},
        "m": {"M": {"B": {"B": b"\x03"}, "l": {"L": [{"B": b"\x04"}, {"S": "x"}, {"M": {}}]}}},
    }
    client(stack, "dynamodb").put_item(TableName=stack.name("UsersTable"), Item=item)
    stack = restarted(local_cloud, stack, tmp_path)

    got = client(stack, "dynamodb").get_item(TableName=stack.name("UsersTable"), Key={"id": item["id"]})["Item"]
    assert {k: v for k, v in got.items() if k not in ("ss", "ns", "bs")} == {
        k: v for k, v in item.items() if k not in ("ss", "ns", "bs")
    }
    assert {k: sorted(got[k][t]) for k, t in (("ss", "SS"), ("ns", "NS"), ("bs", "BS"))} == {
        "ss": ["a", "b"], "ns": ["1", "2"], "bs": [b"\x01", b"\x02"]
    }  # fmt: skip


def test_a_table_larger_than_a_snapshot_page_is_kept_whole(local_cloud: LocalCloud, tmp_path: Path) -> None:
    stack = fresh(local_cloud)
    dynamodb = client(stack, "dynamodb")
    count = SNAPSHOT_PAGE * 2 + 1
    for start in range(0, count, 25):
        puts = [{"PutRequest": {"Item": {"id": {"S": f"u{i}"}}}} for i in range(start, min(count, start + 25))]
        dynamodb.batch_write_item(RequestItems={stack.name("UsersTable"): puts})
    stack = restarted(local_cloud, stack, tmp_path)

    pages = client(stack, "dynamodb").get_paginator("scan").paginate(TableName=stack.name("UsersTable"))
    assert sorted(item["id"]["S"] for page in pages for item in page["Items"]) == sorted(f"u{i}" for i in range(count))


def _canonical(tables: dict[str, Sequence[dict[str, Any]]]) -> dict[str, list[str]]:
    return {name: sorted(json.dumps(item, sort_keys=True) for item in items) for name, items in tables.items()}


def _write_every_way(stack: Stack) -> None:
    """Items put, overwritten, updated, created by an update, deleted, batch-written and transacted (one cancelled)."""
    dynamodb, users, payments = client(stack, "dynamodb"), stack.name("UsersTable"), stack.name("PaymentsTable")
    dynamodb.put_item(TableName=users, Item={"id": {"S": "new"}})
    dynamodb.put_item(TableName=users, Item={"id": {"S": "u1"}, "name": {"S": "overwritten"}})
    dynamodb.update_item(
        TableName=users, Key={"id": {"S": "u2"}}, UpdateExpression="SET #n = :n",
        ExpressionAttributeNames={"#n": "name"}, ExpressionAttributeValues={":n": {"S": "updated"}},
    )  # fmt: skip
    dynamodb.update_item(TableName=users, Key={"id": {"S": "created-by-update"}}, UpdateExpression="SET v = :v",
                         ExpressionAttributeValues={":v": {"N": "1"}})  # fmt: skip
    dynamodb.delete_item(TableName=users, Key={"id": {"S": "u3"}})
    dynamodb.batch_write_item(RequestItems={users: [
        {"PutRequest": {"Item": {"id": {"S": "batched"}}}}, {"DeleteRequest": {"Key": {"id": {"S": "u4"}}}},
    ]})  # fmt: skip
    dynamodb.transact_write_items(TransactItems=[
        {"Put": {"TableName": payments, "Item": {"orderId": {"S": "o1"}, "entry": {"S": "charge"}}}},
        {"Delete": {"TableName": users, "Key": {"id": {"S": "u5"}}}},
    ])  # fmt: skip
    absent = "attribute_not_exists(id)"  # u7 exists: the whole transaction is cancelled, u6 put back as it was
    with pytest.raises(dynamodb.exceptions.TransactionCanceledException):
        dynamodb.transact_write_items(TransactItems=[
            {"Put": {"TableName": users, "Item": {"id": {"S": "u6"}, "name": {"S": "never"}}}},
            {"Put": {"TableName": users, "Item": {"id": {"S": "u7"}}, "ConditionExpression": absent}},
        ])  # fmt: skip


def test_a_snapshot_reads_again_only_the_items_written_since_the_last(
    local_cloud: LocalCloud, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stack = fresh(local_cloud)
    dynamodb = client(stack, "dynamodb")
    for start in range(0, 100, 25):
        puts = [{"PutRequest": {"Item": {"id": {"S": f"u{i}"}, "name": {"S": "U"}}}} for i in range(start, start + 25)]
        dynamodb.batch_write_item(RequestItems={stack.name("UsersTable"): puts})
    store = StateStore(stack, tmp_path)
    store.save()
    _write_every_way(stack)
    reads = 0
    to_json = Item.to_json

    def counted(item: Item) -> dict[str, Any]:
        nonlocal reads
        reads += 1
        return to_json(item)

    monkeypatch.setattr(Item, "to_json", counted)
    kept = store.save()
    assert reads <= 20  # the items written above, not the table's 100
    monkeypatch.setattr(Item, "to_json", to_json)
    assert _canonical(kept.tables) == _canonical(StateStore(stack, tmp_path / "whole").capture().tables)


def test_a_table_made_again_under_the_same_name_is_read_whole(local_cloud: LocalCloud, tmp_path: Path) -> None:
    stack = fresh(local_cloud)
    fill(stack)
    store = StateStore(stack, tmp_path)
    assert store.save().tables[stack.name("UsersTable")] == [ITEM]
    stack = fresh(local_cloud)  # the same names, new tables, nothing written to them
    store.stack = stack
    assert store.save().tables[stack.name("UsersTable")] == []


def test_a_delayed_message_keeps_its_original_delay_across_a_restart(local_cloud: LocalCloud, tmp_path: Path) -> None:
    # The order watch queue delays every message 420 s by default: restored without its own remaining delay, a
    # watch message would wait 420 s again after each restart, and never come due across shorter sessions.
    stack = fresh(local_cloud)
    sqs = client(stack, "sqs")
    watch = sqs.get_queue_url(QueueName=stack.name("OrderWatchQueue"))["QueueUrl"]
    sqs.send_message(QueueUrl=watch, MessageBody='{"orderId": "o-soon"}', DelaySeconds=1)
    sqs.send_message(QueueUrl=watch, MessageBody='{"orderId": "o-later"}')  # the queue's 420 s
    stack = restarted(local_cloud, stack, tmp_path)
    sqs = client(stack, "sqs")
    watch = sqs.get_queue_url(QueueName=stack.name("OrderWatchQueue"))["QueueUrl"]
    received: list[str] = []
    deadline = time.monotonic() + 30
    while not received and time.monotonic() < deadline:
        received = [m["Body"] for m in sqs.receive_message(QueueUrl=watch, WaitTimeSeconds=1).get("Messages", [])]
    assert received == ['{"orderId": "o-soon"}']
    attributes = sqs.get_queue_attributes(QueueUrl=watch, AttributeNames=["ApproximateNumberOfMessagesDelayed"])
    assert attributes["Attributes"]["ApproximateNumberOfMessagesDelayed"] == "1"  # o-later: still delayed


@pytest.mark.parametrize(
    ("delayed_until_s", "expected"), [(0, 0), (99.0, 0), (100.2, 1), (130.0, 30), (100 + 5000, 900)]
)
def test_the_remaining_delay_is_what_is_left_of_it_in_whole_seconds_within_sqs_limit(
    delayed_until_s: float, expected: int
) -> None:
    assert remaining_delay(delayed_until_s * 1000, now=100.0) == expected


def test_a_running_execution_is_started_again_with_its_input(local_cloud: LocalCloud, tmp_path: Path) -> None:
    stack = fresh(local_cloud)
    sfn = client(stack, "stepfunctions")
    waits = json.dumps({"StartAt": "Wait", "States": {"Wait": {"Type": "Wait", "Seconds": 600, "End": True}}})
    role = "arn:aws:iam::123456789012:role/local"
    arn = sfn.create_state_machine(name="waits", definition=waits, roleArn=role)["stateMachineArn"]
    sfn.start_execution(stateMachineArn=arn, name="o-1", input='{"orderId": "o-1"}')
    snapshot = StateStore(stack, tmp_path).save()
    assert [e["name"] for e in snapshot.executions] == ["o-1"]

    stack = fresh(local_cloud)
    arn = client(stack, "stepfunctions").create_state_machine(name="waits", definition=waits, roleArn=role)[
        "stateMachineArn"
    ]
    store = StateStore(stack, tmp_path)
    loaded = store.load()
    assert loaded is not None
    assert store.resume(loaded) == 1

    (execution,) = client(stack, "stepfunctions").list_executions(stateMachineArn=arn)["executions"]
    described = client(stack, "stepfunctions").describe_execution(executionArn=execution["executionArn"])
    assert (described["name"], described["input"], described["status"]) == ("o-1", '{"orderId": "o-1"}', "RUNNING")


def test_a_half_written_snapshot_is_never_read(local_cloud: LocalCloud, tmp_path: Path) -> None:
    stack = fresh(local_cloud)
    fill(stack)
    StateStore(stack, tmp_path).save()
    # A crash while the next snapshot was being written: its temporary file is cut short.
    (tmp_path / f"{SNAPSHOT}.4242.tmp").write_text('{"format": 1, "tables": {"order-service-users-dev": [')

    snapshot = StateStore(stack, tmp_path).load()

    assert snapshot is not None
    assert snapshot.tables[stack.name("UsersTable")] == [ITEM]


@pytest.mark.parametrize(
    "text",
    [
        '{"format": 1, "tables": {',  # cut short, e.g. by a disk that filled up
        "[]",  # valid JSON, not a snapshot
        '{"format": 1, "tables": {}, "unknown": 1}',
        '{"format": 99}',
    ],
)
def test_an_unreadable_snapshot_is_set_aside_and_the_start_goes_on_empty(text: str, tmp_path: Path, logs: Logs) -> None:
    (tmp_path / SNAPSHOT).write_text(text)

    snapshot = StateStore(Stack(load_template(), "http://127.0.0.1:1"), tmp_path, log=logs).load()

    assert snapshot is None
    assert not (tmp_path / SNAPSHOT).exists()
    assert [p.name.split("-")[0] for p in tmp_path.iterdir()] == [f"{SNAPSHOT}.unreadable"]
    assert any("could not be read" in line for line in logs)


def test_only_writes_make_a_snapshot_due() -> None:
    dynamodb = {"REQUEST_METHOD": "POST"}
    assert mutates({**dynamodb, "HTTP_X_AMZ_TARGET": "DynamoDB_20120810.PutItem"})
    assert not mutates({**dynamodb, "HTTP_X_AMZ_TARGET": "DynamoDB_20120810.Query"})
    assert not mutates({**dynamodb, "HTTP_X_AMZ_TARGET": "AmazonSQS.ReceiveMessage"})
    assert mutates({"REQUEST_METHOD": "PUT", "PATH_INFO": "/bucket/key"})
    assert not mutates({"REQUEST_METHOD": "GET", "PATH_INFO": "/bucket/key"})


def test_the_background_saver_writes_soon_after_a_write(local_cloud: LocalCloud, tmp_path: Path) -> None:
    stack = fresh(local_cloud)
    store = StateStore(stack, tmp_path, interval=0.2).start()
    local_cloud.observers.append(store.observe)
    try:
        client(stack, "dynamodb").put_item(TableName=stack.name("UsersTable"), Item=ITEM)
        deadline = time.monotonic() + 30
        while not (tmp_path / SNAPSHOT).exists():
            assert time.monotonic() < deadline, "no snapshot was written"
            time.sleep(0.1)
    finally:
        local_cloud.observers.remove(store.observe)
        store.stop()
    saved = json.loads((tmp_path / SNAPSHOT).read_text())
    assert saved["tables"][stack.name("UsersTable")] == [ITEM]
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]


def test_snapshots_are_spaced_by_their_own_cost_under_load() -> None:
    assert next_wait(2.0, 0.01) == 2.0  # small tables: every interval
    assert next_wait(2.0, 0.5) == 0.5 * SAVE_SPACING  # a long save: saving stays a small share of the process


def test_a_save_that_only_waits_does_not_space_out_the_next(tmp_path: Path) -> None:
    # On a loaded machine a small save waits for a core and for fsync; that wait is no cost to the process.
    store = StateStore(Stack(load_template(), "http://127.0.0.1:1"), tmp_path, interval=0.05)
    saved: list[float] = []

    def waiting_capture() -> Snapshot:
        time.sleep(0.5)  # wall time, no CPU: spaced by the wall clock, the next save would come 10 s later
        saved.append(time.monotonic())
        return Snapshot()

    store.capture = waiting_capture  # type: ignore[method-assign]
    store.start()
    try:
        deadline = time.monotonic() + 15
        while len(saved) < 3:
            store.observe({"REQUEST_METHOD": "PUT"})
            assert time.monotonic() < deadline, f"{len(saved)} saves in 15 s"
            time.sleep(0.05)
    finally:
        store.stop()


def test_a_reader_the_journal_left_behind_or_an_unknown_key_means_reading_the_whole_table(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(table_writes, "JOURNAL_LIMIT", 4)
    journal, key = Journal(), (DynamoType({"S": "a"}), None)
    for _ in range(5):
        journal.add(key)
    assert journal.since(0) is None  # the older half is gone: what this reader missed is unknown
    assert journal.since(journal.end - 1) == {key}
    before = journal.end
    journal.add(None)  # a write whose key could not be read
    assert journal.since(before) is None
    assert journal.since(journal.end) == set()
