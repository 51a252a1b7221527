"""`make run` shows users' notifications: a local queue subscribed to the NotificationTopic, printed as they arrive."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

from infra.local.provision import client
from infra.local.runtime.worker import LogSink, print_sink
from infra.local.template import Stack

TOPIC = "NotificationTopic"


def render(envelope: dict[str, Any]) -> str:
    """One notification (an SNS envelope delivered to SQS) as a readable block."""
    attributes = {k: v.get("Value") for k, v in envelope.get("MessageAttributes", {}).items()}
    head = f"[notification] to {attributes.get('userId', '?')} ({attributes.get('eventType', '?')}): "
    body = "\n".join(f"    {line}" for line in str(envelope.get("Message", "")).splitlines())
    return f"{head}{envelope.get('Subject') or '(no subject)'}\n{body}"


class NotificationPrinter:
    """Subscribes a queue of its own to the topic and prints every message it receives."""

    def __init__(
        self,
        stack: Stack,
        log: LogSink = print_sink,
        poll_seconds: int = 1,
        on_message: Callable[[dict[str, Any]], None] | None = None,
    ) -> None:
        self.stack = stack
        self.log = log
        self.on_message = on_message
        self.poll_seconds = poll_seconds
        self.sqs = client(stack, "sqs")
        self.queue_url = ""
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> NotificationPrinter:
        """Create and subscribe the queue, then print in a background thread."""
        name = self.stack.name(TOPIC).replace("notifications", "local-notifications")
        self.queue_url = self.sqs.create_queue(QueueName=name)["QueueUrl"]
        arn = self.sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        client(self.stack, "sns").subscribe(TopicArn=self.stack.ref(TOPIC), Protocol="sqs", Endpoint=arn)
        self._thread = threading.Thread(target=self._run, name="notifications", daemon=True)
        self._thread.start()
        return self

    def poll_once(self) -> int:
        """Print what arrived; the number printed."""
        messages = self.sqs.receive_message(
            QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=self.poll_seconds
        ).get("Messages", [])
        for message in messages:
            try:
                envelope = json.loads(message["Body"])
                self.log(render(envelope))
            except (ValueError, AttributeError):
                self.log(f"[notification] {message['Body']}")
            else:
                if self.on_message is not None:
                    self.on_message(envelope)
            self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
        return len(messages)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.poll_once()
            except Exception as exc:  # noqa: BLE001 - keep printing after a hiccup of the local cloud
                if self._stop.wait(1):
                    return
                self.log(f"[notification] receive failed: {type(exc).__name__}")

    def stop(self, timeout: float | None = 5) -> None:
        """Stop printing."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
