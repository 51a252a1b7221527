"""State that survives `make run` restarts: one snapshot file of the local cloud's data.

moto keeps everything in memory. Every `SNAPSHOT_SECONDS` in which something was written, and once
more on a clean stop, the data is written to `snapshot.json` in the state folder: tables' items,
buckets' objects, queues' messages (DLQs included), secrets' values (so tokens stay valid), and the
input of each running execution. A snapshot is written to a temporary file, synced, then renamed over
the last one, so a crash at any moment leaves the previous complete snapshot, never half of one.
"""

from __future__ import annotations

import base64
import json
import math
import os
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from infra.local.paths import STATE_DIR
from infra.local.provision import client
from infra.local.runtime.worker import LogSink, print_sink
from infra.local.table_copies import COMPACT, TableCopies, encoded
from infra.local.template import ACCOUNT_ID, Stack

SNAPSHOT = "snapshot.json"
FORMAT = 1
SNAPSHOT_SECONDS = 2.0
SAVE_SPACING = 20
TASK_QUEUE_SUFFIX = "-local-sfn-tasks"
_READ_PREFIXES = ("Get", "List", "Describe", "Query", "Scan", "Receive", "BatchGet")


def mutates(environ: dict[str, Any]) -> bool:
    """True when a request to the local cloud may change data (what makes a snapshot due)."""
    target = str(environ.get("HTTP_X_AMZ_TARGET", ""))
    if target:
        return not target.rpartition(".")[2].startswith(_READ_PREFIXES)
    method = environ.get("REQUEST_METHOD", "GET")
    if method in ("GET", "HEAD"):
        return False
    query = str(environ.get("QUERY_STRING", ""))
    # Query-protocol reads (SNS, SQS's older protocol) are POSTs too: their action names a read.
    return not any(f"Action={p}" in query for p in _READ_PREFIXES)


@dataclass
class Snapshot:
    """What the state folder holds."""

    tables: dict[str, Sequence[dict[str, Any]]] = field(default_factory=dict)
    objects: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    queues: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)
    executions: list[dict[str, str]] = field(default_factory=list)
    saved_at: float = 0.0

    def summary(self) -> str:
        """`N items, N objects, N messages, N executions`."""
        items = sum(len(v) for v in self.tables.values())
        objects = sum(len(v) for v in self.objects.values())
        messages = sum(len(v) for v in self.queues.values())
        return f"{items} items, {objects} objects, {messages} messages, {len(self.executions)} running executions"


def next_wait(interval: float, last_save_cpu: float) -> float:
    """The pause before the next snapshot: the interval, or longer when saving took much CPU."""
    # A snapshot reads every table of the local cloud, in the process that serves it: with large tables under
    # load, saves every 2 s took a share of that process. Spaced by their own cost, they stay within about
    # 1/SAVE_SPACING of it. The cost is the saving thread's CPU time, not the wall clock: on a loaded machine
    # a small save waits for a core and for fsync, and spacing by that lost 8 s of writes to a crash for nothing.
    return max(interval, last_save_cpu * SAVE_SPACING)


class StateStore:
    """Saves the local cloud's data while it runs, and loads it into a fresh one."""

    def __init__(
        self,
        stack: Stack,
        directory: Path = STATE_DIR,
        interval: float = SNAPSHOT_SECONDS,
        log: LogSink = print_sink,
    ) -> None:
        self.stack = stack
        self.directory = directory
        self.interval = interval
        self.log = log
        self._dirty = threading.Event()
        self._stop = threading.Event()
        self._save_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._tables = TableCopies()

    @property
    def path(self) -> Path:
        """The snapshot file."""
        return self.directory / SNAPSHOT

    def observe(self, environ: dict[str, Any]) -> None:
        """A request reached the local cloud (a LocalCloud observer)."""
        if mutates(environ):
            self._dirty.set()

    def clear(self) -> bool:
        """Forget the saved state; True when there was some."""
        existed = self.path.exists()
        self.path.unlink(missing_ok=True)
        return existed

    def load(self) -> Snapshot | None:
        """The last complete snapshot, or None; an unreadable one is set aside, never half-loaded."""
        try:
            raw = json.loads(self.path.read_text())
            if not isinstance(raw, dict) or raw.get("format") != FORMAT:
                raise ValueError(f"not a format {FORMAT} snapshot")
            return Snapshot(**{k: v for k, v in raw.items() if k != "format"})
        except FileNotFoundError:
            return None
        except (OSError, ValueError, TypeError) as exc:
            aside = self.path.with_name(f"{SNAPSHOT}.unreadable-{int(time.time())}")
            self.path.replace(aside)
            self.log(f"[state] {self.path.name} could not be read ({type(exc).__name__}); moved to {aside.name}")
            return None

    def restore(self, snapshot: Snapshot) -> None:
        """Put a snapshot's data into the freshly provisioned cloud (what the template no longer has is skipped)."""
        _restore_tables(self.stack, snapshot.tables)
        _restore_objects(self.stack, snapshot.objects)
        _restore_queues(self.stack, snapshot.queues)
        _restore_secrets(self.stack, snapshot.secrets)

    def resume(self, snapshot: Snapshot) -> int:
        """Start again each execution that was running: every task is idempotent, so it may redo a step."""
        sfn = client(self.stack, "stepfunctions")
        machines = {m["name"]: m["stateMachineArn"] for m in sfn.list_state_machines()["stateMachines"]}
        started = 0
        for execution in snapshot.executions:
            arn = machines.get(execution["stateMachine"])
            if arn is not None:
                sfn.start_execution(stateMachineArn=arn, name=execution["name"], input=execution["input"])
                started += 1
        return started

    def capture(self) -> Snapshot:
        """Read every table, bucket, queue, secret and running execution of the local cloud."""
        return Snapshot(
            tables=self._tables.read(self.stack),
            objects=_capture_objects(self.stack),
            queues=_capture_queues(self.stack),
            secrets=_capture_secrets(self.stack),
            executions=_capture_executions(self.stack),
            saved_at=time.time(),
        )

    def save(self) -> Snapshot:
        """Write a snapshot atomically: a temporary file, fsync, then rename over the last one."""
        with self._save_lock:
            self._dirty.clear()
            snapshot = self.capture()
            self.directory.mkdir(parents=True, exist_ok=True)
            temporary = self.path.with_name(f"{SNAPSHOT}.{os.getpid()}.tmp")
            text = _file_text(snapshot)
            with temporary.open("w") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, self.path)
            _fsync_dir(self.directory)
            return snapshot

    def start(self) -> StateStore:
        """Save in the background whenever something was written."""
        self._thread = threading.Thread(target=self._run, name="state", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        wait = self.interval
        while not self._stop.wait(wait):
            if self._dirty.is_set():
                started = time.thread_time()
                try:
                    self.save()
                except Exception as exc:  # noqa: BLE001 - the next interval tries again; the last snapshot stands
                    self.log(f"[state] snapshot failed: {type(exc).__name__}: {exc}")
                wait = next_wait(self.interval, time.thread_time() - started)

    def stop(self) -> Snapshot:
        """Stop the background saves and write a final snapshot."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        return self.save()


def _file_text(snapshot: Snapshot) -> str:
    """The snapshot file: the tables' items spliced in as they are kept, already encoded."""
    # One string, then one write: `json.dump` streamed 29,000 items through the pure-Python encoder (1.6 million
    # writes, 0.5 s); the items were encoded once, when they were written, by the C encoder.
    rest = COMPACT.encode({"format": FORMAT, **{k: v for k, v in vars(snapshot).items() if k != "tables"}})
    tables = ",".join(f"{json.dumps(name)}:[{','.join(encoded(items))}]" for name, items in snapshot.tables.items())
    return f'{rest[:-1]},"tables":{{{tables}}}}}'


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _sdk_item(item: dict[str, Any]) -> dict[str, Any]:
    """An item from DynamoDB's JSON, as boto3 takes it (binary values as bytes)."""
    return {name: _sdk_value(value) for name, value in item.items()}


def _sdk_value(value: dict[str, Any]) -> dict[str, Any]:
    ((kind, inner),) = value.items()
    if kind == "B":
        return {kind: base64.b64decode(inner)}
    if kind == "BS":
        return {kind: [base64.b64decode(v) for v in inner]}
    if kind == "M":
        return {kind: _sdk_item(inner)}
    if kind == "L":
        return {kind: [_sdk_value(v) for v in inner]}
    return value


def _restore_tables(stack: Stack, tables: dict[str, Sequence[dict[str, Any]]]) -> None:
    dynamodb = client(stack, "dynamodb")
    existing = set(dynamodb.list_tables()["TableNames"])
    for name, items in tables.items():
        if name not in existing:
            continue
        for start in range(0, len(items), 25):
            batch = [{"PutRequest": {"Item": _sdk_item(item)}} for item in items[start : start + 25]]
            request: dict[str, Any] = {name: batch}
            while request:
                request = dynamodb.batch_write_item(RequestItems=request).get("UnprocessedItems") or {}


def _capture_objects(stack: Stack) -> dict[str, list[dict[str, Any]]]:
    s3 = client(stack, "s3")
    buckets: dict[str, list[dict[str, Any]]] = {}
    for bucket in s3.list_buckets()["Buckets"]:
        objects = []
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket["Name"]):
            for entry in page.get("Contents", []):
                got = s3.get_object(Bucket=bucket["Name"], Key=entry["Key"])
                objects.append(
                    {
                        "key": entry["Key"],
                        "body": base64.b64encode(got["Body"].read()).decode(),
                        "contentType": got.get("ContentType", "binary/octet-stream"),
                        "metadata": got.get("Metadata", {}),
                    }
                )
        buckets[bucket["Name"]] = objects
    return buckets


def _restore_objects(stack: Stack, buckets: dict[str, list[dict[str, Any]]]) -> None:
    s3 = client(stack, "s3")
    existing = {b["Name"] for b in s3.list_buckets()["Buckets"]}
    for bucket, objects in buckets.items():
        if bucket not in existing:
            continue
        for entry in objects:
            s3.put_object(
                Bucket=bucket,
                Key=entry["key"],
                Body=base64.b64decode(entry["body"]),
                ContentType=entry["contentType"],
                Metadata=entry["metadata"],
            )


def _capture_queues(stack: Stack) -> dict[str, list[dict[str, Any]]]:
    # Reading through the SQS API would count as a receive (and could push a message to its DLQ):
    # the messages are copied from moto's in-memory queues instead, in flight ones included.
    from moto.sqs.models import sqs_backends

    backend = sqs_backends[ACCOUNT_ID][stack.region]
    queues: dict[str, list[dict[str, Any]]] = {}
    for name, queue in list(backend.queues.items()):
        if name.endswith(TASK_QUEUE_SUFFIX):
            continue  # task tokens of executions that end with this process: resumed executions send new ones
        queues[name] = [
            {
                "body": message.body,
                "attributes": message.message_attributes or {},
                "groupId": message.group_id,
                "dedupId": message.deduplication_id,
                # When a delayed message becomes visible (epoch ms): a restart must not delay it all over again.
                "delayedUntil": message.delayed_until,
            }
            for message in list(queue._messages)
        ]
    return queues


def remaining_delay(delayed_until_ms: float, now: float) -> int:
    """The DelaySeconds that keeps a message's original delay: what is left of it, whole seconds, at most 900."""
    return min(MAX_DELAY_SECONDS, max(0, math.ceil(delayed_until_ms / 1000 - now)))


MAX_DELAY_SECONDS = 900  # SQS's limit


def _restore_queues(stack: Stack, queues: dict[str, list[dict[str, Any]]]) -> None:
    sqs = client(stack, "sqs")
    for name, messages in queues.items():
        try:
            url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
        except sqs.exceptions.QueueDoesNotExist:
            continue
        for message in messages:
            # Explicit, 0 included: without it the queue's default delay (the order watch's 420 s) would start
            # again at every restart, and a message would never come due across sessions shorter than that.
            request: dict[str, Any] = {"QueueUrl": url, "MessageBody": message["body"]}
            if not name.endswith(".fifo"):  # FIFO queues take no per-message delay
                request["DelaySeconds"] = remaining_delay(message.get("delayedUntil", 0), time.time())
            if message["attributes"]:
                request["MessageAttributes"] = message["attributes"]
            if message.get("groupId"):
                request["MessageGroupId"] = message["groupId"]
            if message.get("dedupId"):
                request["MessageDeduplicationId"] = message["dedupId"]
            sqs.send_message(**request)


def _capture_secrets(stack: Stack) -> dict[str, str]:
    secretsmanager = client(stack, "secretsmanager")
    values = {}
    for secret in secretsmanager.list_secrets()["SecretList"]:
        value = secretsmanager.get_secret_value(SecretId=secret["Name"]).get("SecretString")
        if value is not None:
            values[secret["Name"]] = value
    return values


def _restore_secrets(stack: Stack, values: dict[str, str]) -> None:
    secretsmanager = client(stack, "secretsmanager")
    existing = {s["Name"] for s in secretsmanager.list_secrets()["SecretList"]}
    for name, value in values.items():
        if name in existing:
            secretsmanager.put_secret_value(SecretId=name, SecretString=value)


def _capture_executions(stack: Stack) -> list[dict[str, str]]:
    sfn = client(stack, "stepfunctions")
    running = []
    for machine in sfn.list_state_machines()["stateMachines"]:
        listed = sfn.list_executions(stateMachineArn=machine["stateMachineArn"], statusFilter="RUNNING")
        for execution in listed["executions"]:
            described = sfn.describe_execution(executionArn=execution["executionArn"])
            running.append(
                {"stateMachine": machine["name"], "name": execution["name"], "input": described.get("input", "{}")}
            )
    return running
