"""SQS event source mappings: batches, batching windows, partial batch responses."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from typing import Any

from infra.local.runtime.events import sqs_event, sqs_record
from infra.local.runtime.functions import FunctionSpec
from infra.local.runtime.sources.base import Services, Source, guarded
from infra.local.runtime.worker import Invocation

RECEIVE_ARGS = {
    "AttributeNames": ["All"],
    "MessageAttributeNames": ["All"],
    "MessageSystemAttributeNames": ["All"],
}


class SqsSource:
    """Long-polls one queue and hands batches to one function, as Lambda's SQS poller does."""

    def __init__(self, services: Services, fn: FunctionSpec, name: str, props: dict[str, Any]) -> None:
        resolved = services.stack.resolve(props)
        self.services = services
        self.fn = fn
        self.queue_arn = str(resolved["Queue"])
        self.queue_url = services.queue_url(self.queue_arn.rsplit(":", 1)[-1])
        self.batch_size = int(resolved.get("BatchSize", 10))
        self.window = float(resolved.get("MaximumBatchingWindowInSeconds", 0))
        self.report_failures = "ReportBatchItemFailures" in resolved.get("FunctionResponseTypes", [])
        self.filters = [json.loads(f["Pattern"]) for f in resolved.get("FilterCriteria", {}).get("Filters", [])]
        self.description = f"{fn.logical_id}.{name}: SQS {self.queue_arn.rsplit(':', 1)[-1]}"
        self.sqs = services.client("sqs")

    def setup(self) -> None:
        """The queue is the template's own, created by provision()."""

    def run(self, stop: threading.Event) -> None:
        """Poll until stopped; each batch is delivered before the next receive."""
        guarded(self.services, self.description, stop, self.poll_once)

    def poll_once(self) -> None:
        """Receive one batch (waiting for the window) and deliver it."""
        batch = self._collect()
        if batch:
            self.deliver(batch)

    def _receive(self, wanted: int, wait: int) -> list[dict[str, Any]]:
        response = self.sqs.receive_message(
            QueueUrl=self.queue_url, MaxNumberOfMessages=min(10, wanted), WaitTimeSeconds=wait, **RECEIVE_ARGS
        )
        messages: list[dict[str, Any]] = response.get("Messages", [])
        return messages

    def _collect(self) -> list[dict[str, Any]]:
        batch = self._receive(self.batch_size, self.services.poll_seconds)
        if not batch or self.window <= 0:
            return batch
        # The window starts with the first message and ends early when the batch is full.
        closes = time.monotonic() + self.window
        while len(batch) < self.batch_size:
            remaining = closes - time.monotonic()
            if remaining <= 0:
                break
            wait = int(remaining)
            if wait == 0:
                time.sleep(remaining)
            batch += self._receive(self.batch_size - len(batch), wait)
        # A message whose visibility timeout ends inside the window comes back: keep its newest receipt only.
        return list({m["MessageId"]: m for m in batch}.values())

    def deliver(self, batch: list[dict[str, Any]]) -> None:
        """Invoke the function; delete what succeeded and leave the rest for redelivery.

        Messages that match none of the mapping's FilterCriteria are deleted without an invocation, as
        Lambda does.
        """
        wanted = [m for m in batch if self.matches(m)]
        self._delete([m for m in batch if m not in wanted])
        if not wanted:
            return
        event = sqs_event(wanted, self.queue_arn, self.services.stack.region)
        outcome = self.services.invoke(self.fn.logical_id, event)
        done = self.succeeded(outcome, [m["MessageId"] for m in wanted])
        self._delete([m for m in wanted if m["MessageId"] in done])

    def matches(self, message: dict[str, Any]) -> bool:
        """True when the mapping has no filter or one of its patterns matches the record."""
        if not self.filters:
            return True
        # moto's EventBridge matcher: the same pattern language (prefix, numeric, exists, anything-but...).
        from moto.events.models import EventPattern

        record: Any = sqs_record(message, self.queue_arn, self.services.stack.region)
        # A JSON body is matched by its fields; a plain-text one as a string.
        with contextlib.suppress(ValueError):
            record["body"] = json.loads(record["body"])
        return any(EventPattern(None, pattern).matches_event(record) for pattern in self.filters)

    def _delete(self, messages: list[dict[str, Any]]) -> None:
        receipts = [m["ReceiptHandle"] for m in messages]
        for start in range(0, len(receipts), 10):
            entries = [{"Id": str(i), "ReceiptHandle": r} for i, r in enumerate(receipts[start : start + 10])]
            self.sqs.delete_message_batch(QueueUrl=self.queue_url, Entries=entries)

    def succeeded(self, outcome: Invocation, ids: list[str]) -> set[str]:
        """Message ids to delete, by Lambda's rules for errors and partial batch responses."""
        if not outcome.ok:
            return set()
        if not self.report_failures:
            return set(ids)
        failed = failed_ids(outcome.result, ids)
        if failed is None:
            self.services.log(f"[{self.fn.logical_id}] invalid batchItemFailures response: whole batch failed")
            return set()
        return set(ids) - failed


def failed_ids(result: Any, ids: list[str]) -> set[str] | None:
    """The ids a partial batch response reports as failed; None when the response is invalid."""
    if result is None:
        return set()
    if not isinstance(result, dict):
        return None
    failures = result.get("batchItemFailures")
    if not failures:
        return set()
    if not isinstance(failures, list):
        return None
    failed = set()
    for item in failures:
        identifier = item.get("itemIdentifier") if isinstance(item, dict) else None
        if not isinstance(identifier, str) or identifier not in ids:
            return None
        failed.add(identifier)
    return failed


def sqs_sources(services: Services, fn: FunctionSpec, name: str, props: dict[str, Any]) -> list[Source]:
    """The sources of an `SQS` event (none when the mapping is disabled)."""
    if services.stack.resolve(props.get("Enabled", True)) in (False, "false"):
        return []
    return [SqsSource(services, fn, name, props)]
