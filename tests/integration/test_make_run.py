"""`make run`'s entry point as a user runs it: starts, serves, and stops cleanly on Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import boto3
import httpx

from infra.local.cloud import free_port


def wait_for(url: str, timeout: float = 90) -> httpx.Response:
    deadline = time.monotonic() + timeout
    while True:
        try:
            return httpx.get(url, timeout=5)
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_run_serves_the_api_and_stops_on_ctrl_c() -> None:
    port, aws_port = free_port(), free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "infra.local", "run", "--port", str(port), "--aws-port", str(aws_port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        health = wait_for(f"http://127.0.0.1:{port}/health")
        assert health.status_code == 200
        assert health.json()["checks"]["dynamodb"] == "ok"
        assert httpx.get(f"http://127.0.0.1:{port}/docs", timeout=5).status_code == 200
        # The local AWS endpoint it printed is reachable and provisioned from the template.
        dynamodb = boto3.client(
            "dynamodb",
            endpoint_url=f"http://127.0.0.1:{aws_port}",
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        tables = dynamodb.list_tables()["TableNames"]
        assert "order-service-users-dev" in tables
    finally:
        proc.send_signal(signal.SIGINT)
        output, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, output[-3000:]
    assert f"http://127.0.0.1:{port}/docs" in output
    assert f"http://127.0.0.1:{aws_port}" in output
