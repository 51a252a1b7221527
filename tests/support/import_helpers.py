"""Helpers of the catalog import tests: create an import, upload through its URL, run the worker."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

import workers.catalog_import
from app.bootstrap import Container
from app.settings import get_settings
from infra.local import payloads
from infra.local.env import function_env
from infra.local.provision import client as aws
from infra.local.template import Stack
from tests.support.tokens import Signer

FUNCTION = "CatalogImportFunction"


class Clock:
    """A Lambda context whose remaining time drops by `step_ms` on every look."""

    def __init__(self, start_ms: int = 900_000, step_ms: int = 0) -> None:
        self.left = start_ms
        self.step = step_ms

    def get_remaining_time_in_millis(self) -> int:
        self.left -= self.step
        return self.left


def start(client: TestClient, auth: Signer, body: bytes) -> tuple[str, str]:
    """POST /products/imports for a file of this size: (importId, uploadUrl)."""
    response = client.post("/products/imports", json={"contentLength": len(body)}, headers=auth.admin())
    assert response.status_code == 201, response.text
    ticket = response.json()
    return ticket["importId"], ticket["uploadUrl"]


def upload(url: str, body: bytes, content_type: str = "text/csv") -> httpx.Response:
    """PUT the file to the presigned URL, as a client would."""
    return httpx.put(url, content=body, headers={"content-type": content_type}, timeout=30)


def put_object(stack: Stack, import_id: str, body: bytes, content_type: str = "text/csv") -> None:
    """Put a file under the import's key with the tooling's credentials (bypassing the URL's limits)."""
    aws(stack, "s3").put_object(
        Bucket=stack.name("ImportsBucket"), Key=f"imports/{import_id}.csv", Body=body, ContentType=content_type
    )


def event_for(stack: Stack, import_id: str) -> dict[str, Any]:
    """The S3 ObjectCreated event of the import's uploaded object."""
    bucket, key = stack.name("ImportsBucket"), f"imports/{import_id}.csv"
    head = aws(stack, "s3").head_object(Bucket=bucket, Key=key)
    return payloads.s3_object_created(bucket, key, head["ETag"].strip('"'), int(head["ContentLength"]))


def worker(stack: Stack, monkeypatch: pytest.MonkeyPatch, **env: str) -> Callable[[dict[str, Any], Any], Any]:
    """workers.catalog_import.handler with CatalogImportFunction's environment and identity (plus `env`)."""
    saved = dict(function_env(stack, "ApiFunction"))
    for key, value in {**function_env(stack, FUNCTION), **env}.items():
        monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    container = Container(get_settings())
    container.catalog_imports  # noqa: B018 - create the clients under this function's identity
    for key, value in saved.items():
        monkeypatch.setenv(key, value)
    for key in env:
        monkeypatch.delenv(key, raising=False)
    get_settings.cache_clear()
    monkeypatch.setattr(workers.catalog_import, "services", lambda: container)
    return workers.catalog_import.handler


def ran(reply: Any) -> list[dict[str, Any]]:
    """What each import in a reply did: an S3 event's list, or a continuation batch's imports (none failed)."""
    if isinstance(reply, list):
        return reply
    assert reply["batchItemFailures"] == []
    return list(reply["imports"])


def continuations(stack: Stack) -> Iterator[dict[str, Any]]:
    """Receive (and delete) the continuation messages waiting in the queue, as SQS events."""
    sqs = aws(stack, "sqs")
    url = stack.ref("ImportContinueQueue")
    while True:
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1, WaitTimeSeconds=0).get("Messages", [])
        if not messages:
            return
        sqs.delete_message(QueueUrl=url, ReceiptHandle=messages[0]["ReceiptHandle"])
        yield payloads.sqs_event(messages[0]["Body"], queue=stack.name("ImportContinueQueue"))


def csv_file(rows: int, *, prefix: str = "p", stock: int = 1) -> bytes:
    """A valid file of `rows` products."""
    lines = ["productId,name,price,currency,stock"]
    lines += [f"{prefix}{i},Product {i},{100 + i},USD,{stock}" for i in range(rows)]
    return ("\n".join(lines) + "\n").encode()
