"""`make load`: locust against `make run` (started here if none answers), then drain and check invariants."""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from app.adapters.dynamodb.product_items import gather
from infra.local.provision import client as aws_client
from infra.local.template import Stack, load_template
from infra.local.token import local_secret, mint

REPORTS = Path("reports")
FINAL = {"CONFIRMED", "FAILED"}
WARM_LINE = "function workers warm"


def main(argv: list[str]) -> int:
    """Run the load, print the figures, and exit 1 on any 5xx, lost or stuck order, or broken invariant."""
    parser = argparse.ArgumentParser(prog="python -m infra.bench.load")
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    parser.add_argument("--aws-port", type=int, default=int(os.environ.get("MOTO_PORT", "4566")))
    parser.add_argument("--drain-seconds", type=int, default=300)
    args = parser.parse_args(argv)
    base = f"http://127.0.0.1:{args.port}"
    server = None if _up(base) else _start(args.port, args.aws_port, base)
    try:
        stack = Stack(load_template(), f"http://127.0.0.1:{args.aws_port}")
        secret = local_secret(stack)
        assert secret, "no JWT secret in the local Secrets Manager"
        REPORTS.mkdir(exist_ok=True)
        admin = mint(secret, "load-admin", "admin", None, "order-service", "order-service")
        _stock_up(base, admin, max(200, args.users * args.seconds // 2))
        began = datetime.now(UTC).isoformat()
        _locust(base, secret, args.users, args.seconds)
        summary = _summary()
        accepted = json.loads((REPORTS / "load-orders.json").read_text())
        # Requests still in flight when locust stops are cut off client-side, but the server may have accepted
        # them: those orders count too (and must end final like the others).
        accepted += sorted(set(_placed_by_load_users(stack, began)) - set(accepted))
        orders = _drain(base, admin, accepted, args.drain_seconds)
        _wait_executions(stack, args.drain_seconds)
        problems = _check(stack, orders, accepted) + summary.pop("problems")
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
    _print(summary, orders, problems)
    return 1 if problems else 0


def _up(base: str) -> bool:
    try:
        return httpx.get(f"{base}/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _start(port: int, aws_port: int, base: str) -> subprocess.Popen[bytes]:
    print(f"no API at {base}: starting `make run` in the background (log: reports/make-run.log)", flush=True)
    REPORTS.mkdir(exist_ok=True)
    log = (REPORTS / "make-run.log").open("wb")
    cmd = [sys.executable, "-m", "infra.local", "run", "--port", str(port), "--aws-port", str(aws_port)]
    # Four API processes: each serves one request at a time. Two, make run's default, keep its reloads fast.
    env = {**os.environ, "API_WORKERS": os.environ.get("API_WORKERS", "4")}
    server = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
    deadline = time.monotonic() + 120
    # Up, and its function workers warm: measured while they import, the first seconds would be the start's.
    while not (_up(base) and WARM_LINE in (REPORTS / "make-run.log").read_text()):
        if server.poll() is not None or time.monotonic() > deadline:
            raise SystemExit("`make run` did not come up; see reports/make-run.log")
        time.sleep(1)
    return server


def _stock_up(base: str, admin: str, units: int) -> None:
    """Give each product the load orders at least `units` available."""
    # Otherwise a run after others places only orders that fail for want of stock.
    headers = {"authorization": f"Bearer {admin}"}
    with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
        for product in os.environ.get("LOAD_PRODUCTS", "coffee-mug,green-tea,notebook").split(","):
            reply = client.get(f"/products/{product}")
            reply.raise_for_status()
            missing = units - int(reply.json()["available"])
            if missing > 0:
                client.post(f"/products/{product}/restock", json={"quantity": missing}).raise_for_status()


def _locust(base: str, secret: str, users: int, seconds: int) -> None:
    env = {**os.environ, "LOAD_JWT_SECRET": secret, "LOAD_ORDERS_FILE": str(REPORTS / "load-orders.json")}
    cmd = [
        str(Path(sys.executable).with_name("locust")),
        "-f",
        str(Path(__file__).with_name("locustfile.py")),
        "--headless",
        "--users",
        str(users),
        "--spawn-rate",
        str(max(1, users // 2)),
        "--run-time",
        f"{seconds}s",
        "--host",
        base,
        "--html",
        str(REPORTS / "load.html"),
        "--csv",
        str(REPORTS / "load"),
        "--only-summary",
    ]
    # Locust exits 1 when any request failed; the summary below says which.
    subprocess.run(cmd, env=env, check=False)


def _summary() -> dict[str, Any]:
    with (REPORTS / "load_stats.csv").open() as f:
        rows = list(csv.DictReader(f))
    total = next(r for r in rows if r["Name"] == "Aggregated")
    server_errors = 0
    with (REPORTS / "load_failures.csv").open() as f:
        for failure in csv.DictReader(f):
            if "50" in failure["Error"] or "HTTPError('5" in failure["Error"]:
                server_errors += int(failure["Occurrences"])
    return {
        "requests": int(total["Request Count"]),
        "rps": float(total["Requests/s"]),
        "p50": total["50%"],
        "p95": total["95%"],
        "p99": total["99%"],
        "failures": int(total["Failure Count"]),
        "server_errors": server_errors,
        "problems": [f"{server_errors} responses were 5xx"] if server_errors else [],
    }


def _drain(base: str, admin: str, ids: list[str], seconds: int) -> dict[str, dict[str, Any]]:
    """Every accepted order, polled until each is final or time is up."""
    headers = {"authorization": f"Bearer {admin}"}
    orders: dict[str, dict[str, Any]] = {}
    deadline = time.monotonic() + seconds
    with httpx.Client(base_url=base, headers=headers, timeout=10) as client:
        while True:
            for order_id in ids:
                if orders.get(order_id, {}).get("status") not in FINAL:
                    response = client.get(f"/orders/{order_id}")
                    orders[order_id] = response.json() if response.status_code == 200 else {"status": "LOST"}
            if all(o["status"] in FINAL for o in orders.values()) or time.monotonic() > deadline:
                return orders
            time.sleep(2)


def _wait_executions(stack: Stack, seconds: int) -> None:
    """Until no workflow execution runs: a FAILED order's compensation (decided first) may still be running."""
    sfn = aws_client(stack, "stepfunctions")
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        running = sfn.list_executions(stateMachineArn=stack.ref("OrderWorkflow"), statusFilter="RUNNING")
        if not running["executions"]:
            return
        time.sleep(1)


def _check(stack: Stack, orders: dict[str, dict[str, Any]], accepted: list[str]) -> list[str]:
    problems = [f"order {i} is {o['status']}" for i, o in orders.items() if o["status"] not in FINAL]
    problems += [
        f"order {i} FAILED without a reason"
        for i, o in orders.items()
        if o["status"] == "FAILED" and not o.get("reason")
    ]
    problems += (
        [f"{len(accepted) - len(orders)} accepted orders were never seen"] if len(orders) < len(accepted) else []
    )
    dynamodb = aws_client(stack, "dynamodb")
    for p in gather(_scan(dynamodb, stack.name("ProductsTable"))):
        if p.reserved or p.available + p.sold != p.added or p.available < 0:
            problems.append(f"product {p.id}: {p.available=} {p.reserved=} {p.sold=} {p.added=}")
    net: dict[str, int] = {}
    for item in _scan(dynamodb, stack.name("PaymentsTable")):
        sign = {"CHARGE": 1, "REFUND": -1}.get(item["entry"]["S"], 0)
        if sign and "amount" in item:
            net[item["orderId"]["S"]] = net.get(item["orderId"]["S"], 0) + sign * int(item["amount"]["N"])
    for order_id, order in orders.items():
        expected = order.get("total", 0) if order["status"] == "CONFIRMED" else 0
        if net.get(order_id, 0) != expected:
            problems.append(f"order {order_id} {order['status']}: paid {net.get(order_id, 0)}, expected {expected}")
    return problems


def _placed_by_load_users(stack: Stack, since: str) -> list[str]:
    """Every order a load user placed since the run began (`load-` users are the locustfile's)."""
    items = _scan(aws_client(stack, "dynamodb"), stack.name("OrdersTable"))
    return [
        i["orderId"]["S"]
        for i in items
        if i.get("userId", {}).get("S", "").startswith("load-") and i.get("createdAt", {}).get("S", "") >= since
    ]


def _scan(dynamodb: Any, table: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for page in dynamodb.get_paginator("scan").paginate(TableName=table):
        items += page["Items"]
    return items


def _print(summary: dict[str, Any], orders: dict[str, dict[str, Any]], problems: list[str]) -> None:
    statuses: dict[str, int] = {}
    for order in orders.values():
        # FAILED orders are counted by reason: a load run should show why orders fail, not only how many.
        key = f"FAILED({order.get('reason')})" if order["status"] == "FAILED" else order["status"]
        statuses[key] = statuses.get(key, 0) + 1
    print("\n== make load ==")
    s = summary
    print(f"requests {s['requests']}  {s['rps']:.1f} req/s  p50 {s['p50']} ms  p95 {s['p95']} ms  p99 {s['p99']} ms")
    print(f"failures {s['failures']}  5xx {s['server_errors']}")
    print(f"orders accepted {len(orders)}: {statuses}")
    print("report: reports/load.html")
    print("invariants: OK" if not problems else "PROBLEMS:\n  " + "\n  ".join(problems[:50]))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
