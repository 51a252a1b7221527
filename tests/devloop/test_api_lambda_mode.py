"""`make run API=lambda`: the README walk-through through the authorizer and the API's Lambda handler."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.support.devrun import DevRun, create_user, wait_status


@pytest.mark.slow
def test_the_walk_through_passes_through_the_authorizer_and_mangum(tmp_path: Path) -> None:
    run = DevRun(tmp_path, "--api", "lambda").ready()
    try:
        token = run.token()
        bearer = {"authorization": f"Bearer {token}"}
        assert httpx.get(f"{run.base}/users/ada", timeout=30).status_code == 401  # no token: the edge answers
        assert httpx.get(f"{run.base}/users/ada", headers={"authorization": "Bearer x"}, timeout=30).status_code == 403
        assert create_user(run, token).status_code == 201  # 1. the user
        placed = httpx.post(  # 2. an order: 202 + Location
            f"{run.base}/orders",
            headers={**bearer, "idempotency-key": "first-order"},
            json={"items": [{"productId": "coffee-mug", "quantity": 2}]},
            timeout=30,
        )
        assert placed.status_code == 202, placed.text
        assert placed.headers["location"] == f"/orders/{placed.json()['id']}"
        wait_status(run, token, placed.json()["id"], "CONFIRMED")  # 3. through the queue and the workflow
        listed = httpx.get(f"{run.base}/users/ada/orders", params={"limit": 10}, headers=bearer, timeout=30)
        assert [o["id"] for o in listed.json()["items"]] == [placed.json()["id"]]
        short = httpx.post(
            f"{run.base}/orders", headers=bearer, json={"items": [{"productId": "limited-print", "quantity": 2}]}
        )
        failed = wait_status(run, token, short.json()["id"], "FAILED")
        assert failed["reason"] == "InsufficientInventory"
        json_type = {**bearer, "content-type": "application/json"}
        bad = httpx.post(f"{run.base}/orders", headers=json_type, content=b"{", timeout=30)
        assert (bad.status_code, bad.headers["content-type"]) == (400, "application/problem+json")
        assert "AuthorizerFunction" in run.output()  # the edge really ran
    finally:
        assert run.stop() == 0
