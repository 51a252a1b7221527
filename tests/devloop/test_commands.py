"""The commands a developer reaches for: sample events, `make status`, `make redrive`, `make help`."""

from __future__ import annotations

import contextlib
import importlib
import re
import subprocess
from pathlib import Path

import pytest

from app.domain.errors import DomainError
from infra.local.payloads import LambdaContext
from infra.local.provision import client
from infra.local.runtime.functions import FUNCTION_TYPES, handler_of
from infra.local.samples import sample_event
from infra.local.status import redrive, status, write_function_stats
from infra.local.template import Stack, load_template
from tests.support.event_helpers import as_worker
from tests.support.throttles import throttle

FUNCTIONS = sorted(Stack(load_template(), "http://127.0.0.1").of_type(*FUNCTION_TYPES))


@pytest.mark.parametrize("logical_id", FUNCTIONS)
def test_every_function_accepts_its_default_sample_event(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, logical_id: str
) -> None:
    as_worker(stack, monkeypatch, logical_id)
    module, _, name = handler_of(stack.resources[logical_id]["Properties"]).rpartition(".")
    handler = getattr(importlib.import_module(module), name)

    # A DomainError answers about the sample's order (unknown here); any other error is about the event's shape.
    with contextlib.suppress(DomainError):
        handler(sample_event(stack, logical_id), LambdaContext(stack.name(logical_id)))


def test_an_unknown_function_has_no_sample() -> None:
    with pytest.raises(KeyError):
        sample_event(Stack(load_template(), "http://127.0.0.1"), "NoSuchFunction")


def _send(stack: Stack, logical_id: str, *bodies: str) -> str:
    sqs = client(stack, "sqs")
    url = str(sqs.get_queue_url(QueueName=stack.name(logical_id))["QueueUrl"])
    for body in bodies:
        sqs.send_message(QueueUrl=url, MessageBody=body)
    return url


def test_redrive_moves_every_dlq_message_back_to_its_source_queue(stack: Stack) -> None:
    bodies = [f'{{"orderId": "o-{i}"}}' for i in range(13)]  # more than one receive batch
    dlq = _send(stack, "OrderDeadLetterQueue", *bodies)

    assert redrive(stack, "OrderDeadLetterQueue") == 13

    sqs = client(stack, "sqs")
    source = sqs.get_queue_url(QueueName=stack.name("OrderQueue"))["QueueUrl"]
    moved: list[str] = []
    while batch := sqs.receive_message(QueueUrl=source, MaxNumberOfMessages=10).get("Messages", []):
        moved += [m["Body"] for m in batch]
    assert sorted(moved) == sorted(bodies)
    assert sqs.receive_message(QueueUrl=dlq).get("Messages", []) == []


def test_redrive_of_a_queue_that_is_no_dlq_names_the_dlqs(stack: Stack) -> None:
    with pytest.raises(KeyError, match="ImportDeadLetterQueue, OrderDeadLetterQueue"):
        redrive(stack, "OrderQueue")


def test_status_shows_depths_functions_and_executions(stack: Stack, tmp_path: Path) -> None:
    _send(stack, "OrderQueue", "a", "b")
    _send(stack, "OrderDeadLetterQueue", "c")
    stats = {"CheckInventoryFunction": {"invocations": 7, "errors": 2, "last_error": "PaymentFailed: declined"}}
    write_function_stats(tmp_path, stats)
    sfn = client(stack, "stepfunctions")
    machine = sfn.create_state_machine(
        name="m",
        definition='{"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}',
        roleArn="arn:aws:iam::123456789012:role/r",
    )["stateMachineArn"]
    sfn.start_execution(stateMachineArn=machine, name="o-42")

    report = status(stack, tmp_path).splitlines()

    row = {line.split()[0]: line.split()[1:] for line in report if line.startswith("  ") and line.split()}
    assert row["OrderQueue"][:3] == ["2", "0", "1"]  # depth, in flight, its DLQ's depth
    assert row["CheckInventoryFunction"][:2] == ["7", "2"]
    assert any("o-42" in line for line in report)


def test_status_shows_throttled_requests_per_table_and_key(
    stack: Stack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    throttle(stack, monkeypatch, "hot", refusals=2)
    table = stack.name("ProductsTable")

    report = status(stack, tmp_path).splitlines()

    hot = next(line for line in report if f"{table} hot" in line)
    assert hot.split()[2:4] == ["2", "1"]  # throttled twice, one write unit used
    assert any("limit 1 WCU, 3 RCU a second per key" in line for line in report)


def test_make_help_lists_every_target_with_its_description() -> None:
    root = Path(__file__).resolve().parents[2]
    listed = subprocess.run(["make", "--no-print-directory", "help"], cwd=root, capture_output=True, text=True)
    database = subprocess.run(["make", "-pRrq", "-f", "Makefile"], cwd=root, capture_output=True, text=True)

    phony = next(line for line in database.stdout.splitlines() if line.startswith(".PHONY:")).split()[1:]
    plain = re.sub(r"\x1b\[[0-9;]*m", "", listed.stdout)
    described = {line.split()[0]: line.split(maxsplit=1)[1] for line in plain.splitlines() if line.strip()}
    assert listed.returncode == 0
    assert sorted(phony) == sorted(described)
    assert all(len(text) > 10 for text in described.values())
