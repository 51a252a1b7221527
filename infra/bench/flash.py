"""`make load FLASH=1`: a flash sale against `make run`, one shard and many side by side.

One product with K units (default 500); many shoppers at once each order one unit, watch the order to its final
status and order again, until they are told it is sold out. The local DynamoDB's per-key limits are scaled down
(LOCAL_DYNAMODB_KEY_SCALE's effect, set on the running cloud for the run), so that one unsharded product
saturates at laptop rates. For each run it reports oversell
(must be 0), orders failed for stock while units were left (must be 0), the time to sell out, p50/p99 from the
202 to the final status, sold-out refusals and their latency, and the throttled requests on the product's keys.
"""

from __future__ import annotations

import argparse
import bisect
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
from infra.local.provision import client as aws
from infra.local.template import Stack, load_template
from infra.local.token import local_secret, mint

FINAL = {"CONFIRMED", "FAILED", "CANCELLED"}
LINGER_SECONDS = 2.0  # a shopper keeps trying this long after its first refusal, so refusals are measured
DRAIN_SECONDS = 240  # after the sale, how long the orders in flight get to reach a final status
POLL_SECONDS = 0.25  # how often a shopper looks at its order
PRODUCT_POLL_SECONDS = 1.0  # how often the sale's product is read (its own item is the hottest key)
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
    final: dict[str, dict[str, Any]] = field(default_factory=dict)  # order id -> its final state, when seen
    lock: threading.Lock = field(default_factory=threading.Lock)


def main(argv: list[str]) -> int:
    """Run the sale with one shard and with --shards, print both, exit 1 on oversell or a false stock failure."""
    parser = argparse.ArgumentParser(prog="python -m infra.bench.flash")
    parser.add_argument("--units", type=int, default=500)
    parser.add_argument("--shards", type=int, default=16)
    parser.add_argument("--users", type=int, default=24)
    parser.add_argument("--scale", type=float, default=0.02, help="per-key limits as a share of DynamoDB's")
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    parser.add_argument("--aws-port", type=int, default=int(os.environ.get("MOTO_PORT", "4566")))
    parser.add_argument("--seconds", type=int, default=300, help="how long shoppers keep ordering, at most")
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
    released = _released(stack, [i for i, o in orders.items() if o["status"] == "FAILED"])
    throttled = _throttled(stack, sale.product) - throttled_before
    return _figures(sale, args.units, product, orders, released, sold_out_at, throttled)


def _shopper(client: httpx.Client, secret: str, i: int) -> str:
    sub = f"flash-{uuid.uuid4().hex[:10]}-{i}"
    token = mint(secret, sub, "user", f"{sub}@example.com", ISSUER, AUDIENCE)
    body = {"name": "Flash shopper", "email": f"{sub}@example.com"}
    client.post("/users", json=body, headers={"authorization": f"Bearer {token}"}).raise_for_status()
    return token


def _shop(base: str, token: str, sale: Sale, deadline: float) -> None:
    """Order one unit, watch it to its final status, order again; stop LINGER_SECONDS after the first SoldOut.

    Each shopper is a customer on the order page: one order in flight at a time, so the demand is the
    shoppers over the saga's latency, which one shard cannot serve and enough shards can.
    """
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
            if status == 202:
                _watch(client, sale, reply.json()["id"], deadline)
            elif status != 409:
                time.sleep(0.2)  # an overloaded stack: back off a little, as a browser's retry would


def _watch(client: httpx.Client, sale: Sale, order_id: str, deadline: float) -> None:
    """Poll one order until it is final (the drain finds any left when the deadline came first)."""
    while time.monotonic() < deadline:
        found = _read(client, f"/orders/{order_id}")
        if found is not None and found["status"] in FINAL:
            with sale.lock:
                sale.final[order_id] = {**found, "seenFinal": time.monotonic()}
            return
        time.sleep(POLL_SECONDS)


def _drain(
    client: httpx.Client, sale: Sale, units: int, threads: list[threading.Thread], deadline: float
) -> tuple[float | None, dict[str, dict[str, Any]]]:
    """Poll the product and every accepted order until the shoppers stopped and every order is final."""
    sold_out_at: float | None = None
    while time.monotonic() < deadline:
        if sold_out_at is None and (_read(client, f"/products/{sale.product}") or {}).get("sold", 0) >= units:
            sold_out_at = time.monotonic()
        if not any(t.is_alive() for t in threads):
            break
        time.sleep(PRODUCT_POLL_SECONDS)
    with sale.lock:
        orders = dict(sale.final)
        pending = [i for i in sale.accepted if i not in orders]
    drained = deadline + DRAIN_SECONDS
    while pending and time.monotonic() < drained:  # orders whose shopper stopped watching at the deadline
        for order_id in list(pending):
            found = _read(client, f"/orders/{order_id}")
            if found is not None and found["status"] in FINAL:
                orders[order_id] = {**found, "seenFinal": time.monotonic()}
                pending.remove(order_id)
        time.sleep(PRODUCT_POLL_SECONDS)
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


def _released(stack: Stack, order_ids: list[str]) -> set[str]:
    """The failed orders that had reserved units and gave them back (the order item's `inventory`)."""
    dynamodb = aws(stack, "dynamodb")
    table = stack.name("OrdersTable")
    found: set[str] = set()
    for start in range(0, len(order_ids), 100):
        keys = [{"orderId": {"S": i}} for i in order_ids[start : start + 100]]
        request: dict[str, Any] = {table: {"Keys": keys, "ProjectionExpression": "orderId, inventory"}}
        while request:
            result = dynamodb.batch_get_item(RequestItems=request)
            for item in result["Responses"].get(table, []):
                if item.get("inventory", {}).get("S") == "RELEASED":
                    found.add(item["orderId"]["S"])
            request = result.get("UnprocessedKeys") or {}
    return found


def false_stock_failures(orders: list[dict[str, Any]], released: set[str]) -> list[dict[str, Any]]:
    """The orders that provably failed for stock while a unit was available (every order is for one unit).

    Nothing restocks during a sale, so the units that orders placed after a failure went on to sell came from
    what was available at that failure or from what was released after it. When those sales outnumber every
    release that may have come after the failure, a unit was available when it failed.
    """
    confirmed = sorted(o["createdAt"] for o in orders if o["status"] == "CONFIRMED")
    gave_back = [o["updatedAt"] for o in orders if o["id"] in released]
    false = []
    for order in orders:
        if order["status"] != "FAILED" or "InsufficientInventory" not in str(order.get("reason")):
            continue
        sold_after = len(confirmed) - bisect.bisect_right(confirmed, order["updatedAt"])  # placed after it failed
        released_after = sum(1 for at in gave_back if at > order["createdAt"])  # may have come after it tried
        if sold_after > released_after:
            false.append(order)
    return false


def _figures(
    sale: Sale,
    units: int,
    product: dict[str, Any],
    orders: dict[str, dict[str, Any]],
    released: set[str],
    sold_out_at: float | None,
    throttled: int,
) -> dict[str, Any]:
    confirmed = [o for o in orders.values() if o["status"] == "CONFIRMED"]
    for_stock = [
        o for o in orders.values() if o["status"] == "FAILED" and "InsufficientInventory" in str(o.get("reason"))
    ]
    false_failures = false_stock_failures(list(orders.values()), released)
    waits = sorted(o["seenFinal"] - sale.accepted[o["id"]] for o in orders.values())
    return {
        "shards": sale.shards,
        "product": sale.product,
        "units": units,
        "accepted": len(sale.accepted),
        "confirmed": len(confirmed),
        "sold": int(product["sold"]),
        "oversold": max(0, len(confirmed) - units) + max(0, int(product["sold"]) - units),
        "exact": product["available"] + product["reserved"] + product["sold"] == units,
        "failedForStock": len(for_stock),
        "failedOtherwise": sum(1 for o in orders.values() if o["status"] == "FAILED") - len(for_stock),
        "releasedBack": len(released),
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
        ("units sold", "sold"),
        ("oversold (must be 0)", "oversold"),
        ("failed for stock", "failedForStock"),
        ("... while units were left (must be 0)", "stockFailuresWithUnitsLeft"),
        ("failed otherwise (retries spent)", "failedOtherwise"),
        ("... of them reserved, then released", "releasedBack"),
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
