"""Catalog imports on the local runtime: the presigned upload's S3 event reaches the worker process."""

from __future__ import annotations

import time
from typing import Any

import pytest
from fastapi.testclient import TestClient

from infra.local.provision import client as aws
from infra.local.runtime import LocalRuntime
from infra.local.template import Stack
from tests.conftest import Logs
from tests.support.import_helpers import csv_file, start, upload
from tests.support.tokens import Signer


def finished(client: TestClient, auth: Signer, import_id: str, timeout: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        report: dict[str, Any] = client.get(f"/products/imports/{import_id}", headers=auth.admin()).json()
        if report["status"] in ("COMPLETED", "FAILED"):
            return report
        assert time.monotonic() < deadline, report
        time.sleep(0.5)


def test_an_upload_is_imported_by_the_function_its_s3_event_triggers(
    runtime: LocalRuntime, logs: Logs, client: TestClient, auth: Signer
) -> None:
    assert "CatalogImportFunction.Upload: S3 s3:ObjectCreated:* on order-service-imports-123456789012-dev" in (
        runtime.describe()
    )
    body = csv_file(120, stock=3) + b"bad,Bad,1,USD,-1\n"
    import_id, url = start(client, auth, body)
    assert upload(url, body).status_code == 200
    report = finished(client, auth, import_id, timeout=60)
    assert (report["status"], report["rowsImported"], report["rowsRejected"]) == ("COMPLETED", 120, 1)
    assert report["errors"] == [{"line": 122, "reason": "stock must be a whole number from 0 to 1000000, got '-1'"}]
    assert client.get("/products/p119", headers=auth.admin()).json()["available"] == 3
    assert any("[CatalogImportFunction]" in line and "import completed" in line for line in logs)


def test_objects_outside_the_filter_trigger_nothing(runtime: LocalRuntime, logs: Logs, stack: Stack) -> None:
    aws(stack, "s3").put_object(Bucket=stack.name("ImportsBucket"), Key="other/file.csv", Body=b"x")
    time.sleep(2.5)
    assert not [line for line in logs if "[CatalogImportFunction]" in line]


@pytest.mark.slow
def test_a_large_file_imports_every_row_through_the_function(
    runtime: LocalRuntime, client: TestClient, auth: Signer
) -> None:
    # Large enough for many chunk transactions; the speed and memory of 100,000 rows are make bench's.
    body = csv_file(8_000, stock=2)
    import_id, url = start(client, auth, body)
    assert upload(url, body).status_code == 200
    report = finished(client, auth, import_id, timeout=600)
    assert (report["status"], report["rowsRead"], report["rowsImported"]) == ("COMPLETED", 8_000, 8_000)
    for product_id in ("p0", "p4000", "p7999"):
        assert client.get(f"/products/{product_id}", headers=auth.admin()).json()["available"] == 2
