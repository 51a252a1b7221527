"""`make load FLASH=1`: a flash sale against `make run`, one shard and many side by side.

One product with K units (default 500); many users order one unit each at once until they are told it is sold
out. The local DynamoDB's per-key limits are scaled down (LOCAL_DYNAMODB_KEY_SCALE's effect, set on the running
cloud for the run), so that one unsharded product saturates at laptop rates. For each run it reports oversell
(must be 0), orders failed for stock while units were left (must be 0), the time to sell out, p50/p99 from the
202 to the final status, sold-out refusals and their latency, and the throttled requests on the product's keys.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx

from infra.bench.load import REPORTS, _start, _up
from infra.local.paths import KEYS_PATH
from infra.local.template import Stack, load_template
from infra.local.token import local_secret, mint

FINAL = {"CONFIRMED", "FAILED", "CANCELLED"}
LINGER_SECONDS = 2.0  # a shopper keeps trying this long after its first refusal, so refusals are measured
ISSUER = AUDIENCE = "order-service"


@dataclass
class Sale:
    """What one flash sale's shoppers saw."""

    shards: int
    product: str
    started: float = 0.0
    accepted: dict[str, float] = field(default_factory=dict)  # order id -> when its 202 came
    refusals: list[float] = field(default_factory=list)  # seconds each 409 SoldOut took
    other: dict[int, int] = field(default_factory=dict)  # any other status -> count
    lock: threading.Lock = field(default_factory=threading.Lock)


def main(argv: list[str]) -> int:
    """Run the sale with one shard and with --shards, print both, exit 1 on oversell or a false stock failure."""
    parser = argparse.ArgumentParser(prog="python -m infra.bench.flash")
    parser.add_argument("--units", type=int, default=500)
    parser.add_argument("--shards", type=int, default=8)
    parser.add_argument("--users", type=int, default=12)
    parser.add_argument("--scale", type=float, default=0.01, help="per-key limits as a share of DynamoDB's")
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    parser.add_argument("--aws-port", type=int, default=int(os.environ.get("MOTO_PORT", "4566")))
    parser.add_argument("--seconds", type=int, default=600, help="the most each sale may take, drain included")
    args = parser.parse_args(argv)
    base = f"http://127.0.0.1:{args.port}"
    server = None if _up(base) else _start(args.port, args.aws_port, base)
    stack = Stack(load_template(), f"http://127.0.0.1:{args.aws_port}")
    keys_url = f"{stack.endpoint}{KEYS_PATH}"
    before = httpx.get(keys_url, timeout=10).json()["scale"]
    try:
        httpx.post(keys_url, json={"scale": args.scale}, timeout=10).raise_for_status()
        secret = local_secret(stack)
        assert secret, "no JWT secret in the local Secrets Manager"
        results = [_sale(base, stack, secret, args, shards) for shards in (1, args.shards)]
    finally:
        httpx.post(keys_url, json={"scale": before}, timeout=10)
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=60)  # it saves its state first
            except subprocess.TimeoutExpired:
                server.kill()
    REPORTS.mkdir(exist_ok=True)
    (REPORTS / "flash.json").write_text(json.dumps(results, indent=2))
    _print(results, args)
    return 1 if any(r["oversold"] or r["stockFailuresWithUnitsLeft"] for r in results) else 0


def _sale(base: str, stack: Stack, secret: str, args: argparse.Namespace, shards: int) -> dict[str, Any]:
    sale = Sale(shards, f"flash-{shards}-{uuid.uuid4().hex[:6]}")
    admin = {"authorization": f"Bearer {mint(secret, 'flash-admin', 'admin', None, ISSUER, AUDIENCE)}"}
    with httpx.Client(base_url=base, headers=admin, timeout=30) as client:
        client.put(f"/products/{sale.product}", json={"name": "Flash sale", "price": 999}).raise_for_status()
        if shards > 1:
            client.put(f"/products/{sale.product}/shards", json={"shards": shards}).raise_for_status()
        client.post(f"/products/{sale.product}/restock", json={"quantity": args.units}).raise_for_status()
        tokens = [_shopper(client, secret, i) for i in range(args.users)]
        throttled_before = _throttled(stack, sale.product)
        sale.started = time.monotonic()
        deadline = sale.started + args.seconds
        threads = [threading.Thread(target=_shop, args=(base, t, sale, deadline)) for t in tokens]
        for thread in threads:
            thread.start()
        sold_out_at, orders = _drain(client, sale, args.units, threads, deadline)
        product = client.get(f"/products/{sale.product}").json()  # after the drain: the stack is idle again
    return _figures(sale, args.units, product, orders, sold_out_at, _throttled(stack, sale.product) - throttled_before)


def _shopper(client: httpx.Client, secret: str, i: int) -> str:
    sub = f"flash-{uuid.uuid4().hex[:10]}-{i}"
    token = mint(secret, sub, "user", f"{sub}@example.com", ISSUER, AUDIENCE)
    body = {"name": "Flash shopper", "email": f"{sub}@example.com"}
    client.post("/users", json=body, headers={"authorization": f"Bearer {token}"}).raise_for_status()
    return token


def _shop(base: str, token: str, sale: Sale, deadline: float) -> None:
    """Order one unit again and again, until LINGER_SECONDS after the first SoldOut (or the deadline)."""
    body = {"items": [{"productId": sale.product, "quantity": 1}]}
    refused_at: float | None = None
    with httpx.Client(base_url=base, headers={"authorization": f"Bearer {token}"}, timeout=60) as client:
        while time.monotonic() < deadline and (refused_at is None or time.monotonic() - refused_at < LINGER_SECONDS):
            sent = time.monotonic()
            try:
                reply = client.post("/orders", json=body)
            except httpx.HTTPError:
                status = 0
            else:
                status = reply.status_code
            with sale.lock:
                if status == 202:
                    sale.accepted[reply.json()["id"]] = time.monotonic()
                elif status == 409 and reply.json().get("code") == "SoldOut":
                    sale.refusals.append(time.monotonic() - sent)
                    refused_at = refused_at or time.monotonic()
                else:
                    sale.other[status] = sale.other.get(status, 0) + 1


def _drain(
    client: httpx.Client, sale: Sale, units: int, threads: list[threading.Thread], deadline: float
) -> tuple[float | None, dict[str, dict[str, Any]]]:
    """Poll the product and every accepted order until the shoppers stopped and every order is final."""
    orders: dict[str, dict[str, Any]] = {}
    sold_out_at: float | None = None
    while time.monotonic() < deadline:
        if sold_out_at is None and (_read(client, f"/products/{sale.product}") or {}).get("sold", 0) >= units:
            sold_out_at = time.monotonic()
        with sale.lock:
            pending = [i for i in sale.accepted if orders.get(i, {}).get("status") not in FINAL]
        for order_id in pending:
            found = _read(client, f"/orders/{order_id}")
            if found is not None and found["status"] in FINAL:
                orders[order_id] = {**found, "seenFinal": time.monotonic()}
        if not pending and not any(t.is_alive() for t in threads):
            break
        time.sleep(0.5)
    for thread in threads:
        thread.join(timeout=5)
    return sold_out_at, orders


def _read(client: httpx.Client, path: str) -> dict[str, Any] | None:
    """A GET's body, or None when the overloaded stack did not answer it (the next round asks again)."""
    try:
        reply = client.get(path)
    except httpx.HTTPError:
        return None
    found: dict[str, Any] = reply.json()
    return found if reply.status_code == 200 else None


def _throttled(stack: Stack, product: str) -> int:
    rows = httpx.get(f"{stack.endpoint}{KEYS_PATH}", timeout=10).json()["keys"]
    mine = [r for r in rows if r["table"] == stack.name("ProductsTable") and r["key"].split("#")[0] == product]
    return sum(int(r["throttled"]) for r in mine)


def _figures(
    sale: Sale,
    units: int,
    product: dict[str, Any],
    orders: dict[str, dict[str, Any]],
    sold_out_at: float | None,
    throttled: int,
) -> dict[str, Any]:
    confirmed = [o for o in orders.values() if o["status"] == "CONFIRMED"]
    for_stock = [
        o for o in orders.values() if o["status"] == "FAILED" and "InsufficientInventory" in str(o.get("reason"))
    ]
    # No order of a sale is cancelled or declined, so stock only ever goes down: an order that failed for stock
    # while a later-placed order was confirmed failed while a unit was left.
    latest_confirmed = max((o["createdAt"] for o in confirmed), default="")
    false_failures = [o for o in for_stock if o["updatedAt"] < latest_confirmed]
    waits = sorted(o["seenFinal"] - sale.accepted[o["id"]] for o in orders.values())
    return {
        "shards": sale.shards,
        "product": sale.product,
        "units": units,
        "accepted": len(sale.accepted),
        "confirmed": len(confirmed),
        "oversold": max(0, len(confirmed) - units) + max(0, int(product["sold"]) - units),
        "exact": product["available"] + product["reserved"] + product["sold"] == units,
        "failedForStock": len(for_stock),
        "failedOtherwise": sum(1 for o in orders.values() if o["status"] == "FAILED") - len(for_stock),
        "stockFailuresWithUnitsLeft": len(false_failures),
        "unfinished": len(sale.accepted) - len(orders),
        "secondsToSellOut": round(sold_out_at - sale.started, 1) if sold_out_at else None,
        "finalP50": _quantile(waits, 0.5),
        "finalP99": _quantile(waits, 0.99),
        "soldOutRefusals": len(sale.refusals),
        "refusalP50": _quantile(sorted(sale.refusals), 0.5),
        "otherReplies": sale.other,
        "throttledOnProduct": throttled,
    }


def _quantile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return round(values[0], 3)
    return round(statistics.quantiles(values, n=100, method="inclusive")[int(q * 100) - 1], 3)


def _print(results: list[dict[str, Any]], args: argparse.Namespace) -> None:
    print(f"\n== make load FLASH=1: {args.units} units, {args.users} shoppers, per-key limits x{args.scale} ==")
    rows = [
        ("shards", "shards"),
        ("orders accepted", "accepted"),
        ("confirmed", "confirmed"),
        ("oversold (must be 0)", "oversold"),
        ("failed for stock", "failedForStock"),
        ("... while units were left (must be 0)", "stockFailuresWithUnitsLeft"),
        ("failed otherwise (retries spent)", "failedOtherwise"),
        ("counters exact", "exact"),
        ("unfinished orders", "unfinished"),
        ("seconds to sell out", "secondsToSellOut"),
        ("202 -> final p50 (s)", "finalP50"),
        ("202 -> final p99 (s)", "finalP99"),
        ("sold-out refusals (409)", "soldOutRefusals"),
        ("refusal latency p50 (s)", "refusalP50"),
        ("throttled requests on the product", "throttledOnProduct"),
        ("other replies", "otherReplies"),
    ]
    for label, key in rows:
        print(f"  {label:<40}" + "".join(f"{results[i][key]!s:>16}" for i in range(len(results))))
    print("report: reports/flash.json")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
