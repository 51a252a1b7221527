"""Locust workload of `make load`: create user, get user, list products, place order, get order."""

from __future__ import annotations

import json
import os
import random
import threading
import uuid
from pathlib import Path
from typing import Any

from locust import HttpUser, between, events, task

from infra.local.token import mint

SECRET = os.environ["LOAD_JWT_SECRET"]
PRODUCTS = os.environ.get("LOAD_PRODUCTS", "coffee-mug,green-tea,notebook").split(",")
ORDERS_FILE = Path(os.environ.get("LOAD_ORDERS_FILE", "reports/load-orders.json"))
_accepted: list[str] = []
_lock = threading.Lock()


class Shopper(HttpUser):
    """One customer: registers, then browses and orders."""

    wait_time = between(0.05, 0.3)

    def on_start(self) -> None:
        """Register this user's profile."""
        self.sub = f"load-{uuid.uuid4().hex[:12]}"
        token = mint(SECRET, self.sub, "user", f"{self.sub}@example.com", "order-service", "order-service")
        self.client.headers["authorization"] = f"Bearer {token}"
        self.client.post("/users", json={"name": "Load", "email": f"{self.sub}@example.com"}, name="POST /users")
        self.orders: list[str] = []

    @task(3)
    def get_user(self) -> None:
        """Read the own profile."""
        self.client.get(f"/users/{self.sub}", name="GET /users/{id}")

    @task(3)
    def list_products(self) -> None:
        """Browse the catalog."""
        self.client.get("/products?limit=20", name="GET /products")

    @task(2)
    def place_order(self) -> None:
        """Order one or two units of a product."""
        body: dict[str, Any] = {"items": [{"productId": random.choice(PRODUCTS), "quantity": random.randint(1, 2)}]}
        with self.client.post("/orders", json=body, name="POST /orders", catch_response=True) as response:
            if response.status_code == 202:
                order_id = response.json()["id"]
                self.orders.append(order_id)
                with _lock:
                    _accepted.append(order_id)

    @task(2)
    def get_order(self) -> None:
        """Look at one of the own orders."""
        if self.orders:
            self.client.get(f"/orders/{random.choice(self.orders)}", name="GET /orders/{id}")


@events.test_stop.add_listener  # type: ignore[untyped-decorator]
def _save_accepted(**_: Any) -> None:
    ORDERS_FILE.parent.mkdir(parents=True, exist_ok=True)
    with _lock:
        ORDERS_FILE.write_text(json.dumps(_accepted))
