"""A client generated from the served /openapi.json (openapi-python-client), unchanged, walks the README's
flow against `make run`: users, pagination, products, orders (replay, CONFIRMED, FAILED, cancel), analytics
and a CSV import. Every reply must have a declared status, only declared headers, and a body the client
parsed whole (nothing lost when its model is written back as JSON).
"""

from __future__ import annotations

import contextlib
import importlib
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.devrun import DEADLINE, DevRun
from tests.support.import_helpers import upload

# What HTTP itself carries: not the API's to declare.
TRANSPORT = frozenset(
    {"content-type", "content-length", "date", "server", "connection", "transfer-encoding", "vary"}
)  # Vary: the local CORS middleware's (behind API Gateway, its CorsConfiguration answers CORS)
PACKAGE = "order_service_client"


class Contract:
    """Each reply checked against the document: status, headers; failures are collected, then asserted."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.operations = [
            (re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", path) + "$"), method, path, operation)
            for path, item in spec["paths"].items()
            for method, operation in item.items()
        ]
        self.failures: list[str] = []
        self.statuses: set[tuple[str, str, int]] = set()

    def check(self, response: httpx.Response) -> None:
        """An httpx response hook."""
        response.read()
        method, path = response.request.method.lower(), response.request.url.path
        found = [(t, op) for pattern, m, t, op in self.operations if pattern.match(path) and m == method]
        if not found:
            self.failures.append(f"{method} {path}: no such operation in the document")
            return
        label = f"{method.upper()} {path} {response.status_code}"
        template, operation = found[-1]  # /products/imports before /products/{product_id}: the literal wins
        literal = [(t, op) for t, op in found if "{" not in t]
        template, operation = literal[0] if literal else (template, operation)
        declared = operation["responses"].get(str(response.status_code))
        self.statuses.add((method, template, response.status_code))
        if declared is None:
            self.failures.append(f"{label}: status not declared")
            return
        named = {name.lower() for name in declared.get("headers", {})}
        extra = {name.lower() for name in response.headers} - TRANSPORT - named
        if extra:
            self.failures.append(f"{label}: undeclared headers {sorted(extra)}")


def generate(spec_url: str, into: Path) -> Any:
    """Generate the client package from the served document and import it."""
    (into / "config.yml").write_text(f"package_name_override: {PACKAGE}\npost_hooks: []\n")
    document = into / "openapi.json"
    document.write_bytes(httpx.get(spec_url, timeout=30).content)
    command = [sys.executable, "-m", "openapi_python_client", "generate", "--path", str(document)]
    command += ["--config", str(into / "config.yml"), "--meta", "none", "--output-path", str(into / PACKAGE)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    sys.path.insert(0, str(into))
    return importlib.import_module(PACKAGE)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevRun]:
    run = DevRun(tmp_path_factory.mktemp("state")).ready()
    yield run
    assert run.stop() == 0


def api(name: str) -> Any:
    """One operation module of the generated client, e.g. api('users.create_user_users_post')."""
    return importlib.import_module(f"{PACKAGE}.api.{name}")


def parsed(contract: Contract, response: Any, status: int) -> Any:
    """The reply's model, asserted to be the whole body and of the expected status."""
    assert response.status_code == status, (status, response.status_code, response.content[:300])
    if response.content:
        assert response.parsed is not None, response.content[:300]
        body = httpx.Response(200, content=response.content).json()
        assert _plain(response.parsed.to_dict()) == _plain(body), "the client's model lost a field"
    return response.parsed


def _plain(value: Any) -> Any:
    """JSON-comparable: the client writes dates back in its own ISO form."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d\d-\d\dT[^ ]+", value):
        return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC).isoformat()
    return value


def wait_for(get: Callable[[], Any], done: Callable[[Any], bool]) -> Any:
    """Poll until `done` holds (generous: the machine may be loaded)."""
    deadline = time.monotonic() + DEADLINE
    while True:
        value = get()
        if done(value) or time.monotonic() > deadline:
            return value
        time.sleep(0.3)


@pytest.mark.slow
def test_a_generated_client_walks_the_whole_flow_unchanged(stack: DevRun, tmp_path: Path) -> None:
    client_pkg = generate(f"{stack.base}/openapi.json", tmp_path)
    models = importlib.import_module(f"{PACKAGE}.models")
    contract = Contract(httpx.get(f"{stack.base}/openapi.json", timeout=30).json())
    hooks = {"event_hooks": {"response": [contract.check]}}
    timeout = httpx.Timeout(30)

    def as_(token: str) -> Any:
        return client_pkg.AuthenticatedClient(base_url=stack.base, token=token, httpx_args=hooks, timeout=timeout)

    opened = contextlib.ExitStack()
    ada = opened.enter_context(as_(stack.token()))
    admin = opened.enter_context(as_(stack.token("ops", "ops@example.com", "admin")))
    anonymous = opened.enter_context(client_pkg.Client(base_url=stack.base, httpx_args=hooks, timeout=timeout))
    with opened:
        walk(contract, models, ada, admin, anonymous)
    assert contract.failures == []
    exercised = {(method, template) for method, template, _ in contract.statuses}
    assert exercised == {(m, t) for _, m, t, _ in contract.operations}  # every operation, at least once


def walk(contract: Contract, models: Any, ada: Any, admin: Any, anonymous: Any) -> None:
    """The README's flow, step by step, through the generated client."""
    users, orders, products = "users.", "orders.", "products."

    # Health, and a request without a token.
    assert parsed(contract, api("health.health_health_get").sync_detailed(client=anonymous), 200).status == "ok"
    denied = api(users + "get_user_users_user_id_get").sync_detailed("ada", client=anonymous)
    assert parsed(contract, denied, 401).status == 401

    # Users: create, read with its ETag, change under If-Match, a stale ETag, look-up by email, pagination.
    created = api(users + "create_user_users_post").sync_detailed(
        client=ada, body=models.UserCreate(name="Ada", email="ada@example.com")
    )
    assert parsed(contract, created, 201).id == "ada"
    assert created.headers["location"] == "/users/ada"
    got = api(users + "get_user_users_user_id_get").sync_detailed("ada", client=ada)
    etag = got.headers["etag"]
    patch = api(users + "update_user_users_user_id_patch")
    changed = patch.sync_detailed("ada", client=ada, body=models.UserPatch(name="Ada L."), if_match=etag)
    assert parsed(contract, changed, 200).name == "Ada L."
    stale = patch.sync_detailed("ada", client=ada, body=models.UserPatch(name="Ada"), if_match=etag)
    parsed(contract, stale, 412)
    parsed(contract, patch.sync_detailed("ada", client=ada, body=models.UserPatch()), 422)
    found = api(users + "list_users_users_get").sync_detailed(client=ada, email="ada@example.com")
    assert [u.id for u in parsed(contract, found, 200).items] == ["ada"]
    for user_id in ("bo", "cy"):
        body = models.UserCreate(id=user_id, name=user_id.title(), email=f"{user_id}@example.com")
        parsed(contract, api(users + "create_user_users_post").sync_detailed(client=admin, body=body), 201)
    first = parsed(contract, api(users + "list_users_users_get").sync_detailed(client=admin, limit=2), 200)
    second = api(users + "list_users_users_get").sync_detailed(client=admin, limit=2, cursor=first.next_cursor)
    assert len(first.items) + len(parsed(contract, second, 200).items) >= 3

    # Products: put, reshard, restock, read, a page.
    put = api(products + "put_product_products_product_id_put").sync_detailed(
        "desk-lamp", client=admin, body=models.ProductPut(name="Desk lamp", price=4500)
    )
    parsed(contract, put, 200)
    reshard = api(products + "reshard_products_product_id_shards_put")
    parsed(contract, reshard.sync_detailed("desk-lamp", client=admin, body=models.Reshard(shards=2)), 200)
    restock = api(products + "restock_products_product_id_restock_post")
    parsed(contract, restock.sync_detailed("desk-lamp", client=admin, body=models.Restock(quantity=5)), 200)
    lamp = parsed(
        contract, api(products + "get_product_products_product_id_get").sync_detailed("desk-lamp", client=ada), 200
    )
    assert (lamp.available, lamp.shards) == (5, 2)
    parsed(contract, api(products + "list_products_products_get").sync_detailed(client=ada, limit=2), 200)

    # Orders: placed with a key, replayed, CONFIRMED; out of stock, FAILED; a cancel; an unknown order.
    place = api(orders + "place_order_orders_post")
    line = models.OrderItemIn(product_id="coffee-mug", quantity=2)
    placed = place.sync_detailed(client=ada, body=models.OrderCreate(items=[line]), idempotency_key="first-order")
    order_id = parsed(contract, placed, 202).id
    assert placed.headers["location"] == f"/orders/{order_id}"
    again = place.sync_detailed(client=ada, body=models.OrderCreate(items=[line]), idempotency_key="first-order")
    assert (parsed(contract, again, 202).id, again.headers["idempotent-replayed"]) == (order_id, "true")
    get_order = api(orders + "get_order_orders_order_id_get")
    final = {"CONFIRMED", "FAILED", "CANCELLED"}
    confirmed = wait_for(lambda: get_order.sync_detailed(order_id, client=ada), lambda r: r.parsed.status in final)
    assert parsed(contract, confirmed, 200).status == models.OrderStatus.CONFIRMED
    short = models.OrderCreate(items=[models.OrderItemIn(product_id="limited-print", quantity=2)])
    short_id = parsed(contract, place.sync_detailed(client=ada, body=short), 202).id
    failed = wait_for(lambda: get_order.sync_detailed(short_id, client=ada), lambda r: r.parsed.status in final)
    assert (parsed(contract, failed, 200).status, failed.parsed.reason) == ("FAILED", "InsufficientInventory")
    lamp_order = models.OrderCreate(items=[models.OrderItemIn(product_id="desk-lamp", quantity=1)])
    cancel_id = parsed(contract, place.sync_detailed(client=ada, body=lamp_order), 202).id
    cancelled = api(orders + "cancel_order_orders_order_id_cancel_post").sync_detailed(cancel_id, client=ada)
    assert cancelled.status_code in (200, 409)  # a race with the workflow: both are declared outcomes
    parsed(contract, cancelled, cancelled.status_code)
    parsed(contract, get_order.sync_detailed("no-such-order", client=ada), 404)
    mine = api(orders + "list_user_orders_users_user_id_orders_get").sync_detailed("ada", client=ada, limit=10)
    assert order_id in [o.id for o in parsed(contract, mine, 200).items]

    # Analytics, then a CSV import through its upload URL.
    today = datetime.now(UTC).date()
    daily = api("analytics.daily_analytics_daily_get").sync_detailed(client=admin, from_=today, to=today)
    parsed(contract, daily, 200)
    csv = b"productId,name,price,currency,stock\nimported-1,Imported,990,USD,3\n"
    ticket = api(products + "create_import_products_imports_post").sync_detailed(
        client=admin, body=models.ImportCreate(content_length=len(csv))
    )
    ticket_body = parsed(contract, ticket, 201)
    assert upload(ticket_body.upload_url, csv).status_code == 200
    get_import = api(products + "get_import_products_imports_import_id_get")
    ended = {"COMPLETED", "FAILED"}
    report = wait_for(
        lambda: get_import.sync_detailed(ticket_body.import_id, client=admin), lambda r: r.parsed.status in ended
    )
    assert parsed(contract, report, 200).status == models.ImportStatus.COMPLETED

    # Users last: a delete under If-Match.
    bo = api(users + "get_user_users_user_id_get").sync_detailed("bo", client=admin)
    deleted = api(users + "delete_user_users_user_id_delete").sync_detailed(
        "bo", client=admin, if_match=bo.headers["etag"]
    )
    assert deleted.status_code == 204
