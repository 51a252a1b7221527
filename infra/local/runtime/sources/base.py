"""What every event source shares: the runtime's services and the source protocol."""

from __future__ import annotations

import math
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from infra.local.provision import client
from infra.local.runtime.functions import FunctionSpec
from infra.local.runtime.sources.asynchronous import (
    EVENT_AGE_EXCEEDED,
    RETRIES_EXHAUSTED,
    GiveUp,
    expired,
    give_up,
)
from infra.local.runtime.worker import Invocation, LogSink
from infra.local.template import ACCOUNT_ID, Stack

Invoke = Callable[[str, Any], Invocation]


@dataclass
class Services:
    """What a source may use: the stack, the function invoker, the log and the poll settings."""

    stack: Stack
    invoke: Invoke
    log: LogSink
    poll_seconds: int = 2
    retry_delay_seconds: int = 2

    def client(self, service: str) -> Any:
        """A boto3 client for the local cloud, attributed to the tooling rather than a function."""
        return client(self.stack, service)

    def queue_url(self, name: str) -> str:
        """The local URL of a queue, by name."""
        return f"{self.stack.endpoint}/{ACCOUNT_ID}/{name}"

    def runtime_name(self, *parts: str) -> str:
        """A physical name for a resource the runtime owns (SQS names allow 80 characters)."""
        return "-".join((str(self.stack.parameter("Service")), "local", *parts))[:80]


class Source(Protocol):
    """One event source wired to one function (or one state machine's task states)."""

    description: str

    def setup(self) -> None:
        """Create the local resources this source needs (rules, runtime queues, state machines)."""

    def run(self, stop: threading.Event) -> None:
        """Deliver events until `stop` is set; return after the in-flight delivery finished."""


class EventFactory(Protocol):
    """Builds the sources of one `Events` entry of a function."""

    def __call__(self, services: Services, fn: FunctionSpec, name: str, props: dict[str, Any]) -> list[Source]:
        """The sources of the event `name` of function `fn`."""
        ...


class ResourceFactory(Protocol):
    """Builds the sources of one template resource (a rule, a state machine)."""

    def __call__(
        self, services: Services, functions: dict[str, FunctionSpec], logical_id: str, resource: dict[str, Any]
    ) -> list[Source]:
        """The sources of resource `logical_id`."""
        ...


def guarded(services: Services, description: str, stop: threading.Event, step: Callable[[], None]) -> None:
    """Run `step` until stop; an error is logged and retried after a pause, never raised."""
    while not stop.is_set():
        try:
            step()
        except Exception as exc:  # noqa: BLE001 - a source must never stop the runtime
            services.log(f"[runtime] {description}: {type(exc).__name__}: {exc}")
            stop.wait(1)


class AsyncQueueSource(ABC):
    """A runtime-owned queue whose messages become asynchronous invocations of one function.

    Subclasses set `services`, `fn`, `queue_name`, `queue_url`, `description`, `sqs` and implement
    `events_of(message)`. A failed event is retried later, as the function's EventInvokeConfig says
    (MaximumRetryAttempts, MaximumEventAgeInSeconds), then goes to its on-failure destination.
    """

    services: Services
    fn: Any
    queue_name: str
    queue_url: str
    description: str
    sqs: Any

    def create_queue(self) -> str:
        """Create the queue (visibility a little over the function's timeout); return its ARN."""
        visibility = str(math.ceil(self.fn.timeout) + 5)
        self.sqs.create_queue(QueueName=self.queue_name, Attributes={"VisibilityTimeout": visibility})
        attributes = self.sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["QueueArn"])
        return str(attributes["Attributes"]["QueueArn"])

    @abstractmethod
    def events_of(self, message: dict[str, Any]) -> list[Any]:
        """The invocation events one queue message carries."""

    def run(self, stop: threading.Event) -> None:
        """Deliver each message as an asynchronous invocation until stopped."""
        guarded(self.services, self.description, stop, self.poll_once)

    def poll_once(self) -> None:
        """Receive what arrived and deliver it."""
        response = self.sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=self.services.poll_seconds,
            AttributeNames=["ApproximateReceiveCount", "SentTimestamp"],
        )
        for message in response.get("Messages", []):
            self.deliver(message)

    def deliver(self, message: dict[str, Any]) -> None:
        """Invoke; on error retry later, as Lambda's asynchronous invocation does, then give up."""
        events = self.events_of(message)
        failed = [(e, outcome) for e in events if not (outcome := self.services.invoke(self.fn.logical_id, e)).ok]
        attributes = message.get("Attributes", {})
        attempts = int(attributes.get("ApproximateReceiveCount", "1"))
        sent_ms = int(attributes.get("SentTimestamp", time.time() * 1000))
        if failed:
            if expired(self.fn, sent_ms, int(time.time() * 1000)):
                give_up(self.services, self.fn, failed, GiveUp(EVENT_AGE_EXCEEDED, attempts))
            elif attempts <= self.fn.asynchronous.retries:
                self.sqs.change_message_visibility(
                    QueueUrl=self.queue_url,
                    ReceiptHandle=message["ReceiptHandle"],
                    VisibilityTimeout=self.services.retry_delay_seconds * attempts,
                )
                return
            else:
                give_up(self.services, self.fn, failed, GiveUp(RETRIES_EXHAUSTED, attempts))
        self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
