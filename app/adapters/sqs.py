"""SQS adapters: the order queue and the catalog import's continuation queue."""

from __future__ import annotations

import json
from typing import Any

from app.services.ports.imports import ObjectRef


class SqsOrderQueue:
    """Sends `{"orderId": ...}` to the order queue."""

    def __init__(self, client: Any, queue_url: str) -> None:
        self.client = client
        self.queue_url = queue_url

    def enqueue(self, order_id: str) -> None:
        """Send one message."""
        self.client.send_message(QueueUrl=self.queue_url, MessageBody=json.dumps({"orderId": order_id}))


class SqsContinuationQueue:
    """Continuations of imports that ran short of time: the same worker picks them up."""

    def __init__(self, client: Any, queue_url: str) -> None:
        self.client = client
        self.queue_url = queue_url

    def send(self, import_id: str, ref: ObjectRef) -> None:
        """Enqueue {importId, bucket, key, eTag, size}; the checkpoint itself stays in DynamoDB."""
        body = {"importId": import_id, "bucket": ref.bucket, "key": ref.key, "eTag": ref.etag, "size": ref.size}
        self.client.send_message(QueueUrl=self.queue_url, MessageBody=json.dumps(body))
