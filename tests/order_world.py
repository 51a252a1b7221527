"""The catalog and order services wired on in-memory fakes, plus a runner of the real ASL definition."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.domain.auth import ADMIN, Principal
from app.services.catalog import CatalogService
from app.services.cursor import CursorCodec
from app.services.order_workflow import OrderDispatcher, OrderWorkflow
from app.services.orders import OrderService
from tests.fakes import (
    FakeClock,
    FakePaymentGateway,
    InMemoryInventory,
    InMemoryOrders,
    InMemoryProducts,
    InMemoryUserRepository,
    RecordingEvents,
    RecordingQueue,
    RecordingStarter,
)

DEFINITION = Path(__file__).resolve().parents[1] / "infra" / "statemachine" / "order_workflow.asl.json"
ADMIN_USER = Principal(sub="admin-1", role=ADMIN)


@dataclass
class OrderWorld:
    """Every fake the order services need, and the services built on them."""

    clock: FakeClock = field(default_factory=FakeClock)
    products: InMemoryProducts = field(default_factory=InMemoryProducts)
    orders: InMemoryOrders = field(default_factory=InMemoryOrders)
    users: InMemoryUserRepository = field(default_factory=InMemoryUserRepository)
    payments: FakePaymentGateway = field(default_factory=FakePaymentGateway)
    queue: RecordingQueue = field(default_factory=RecordingQueue)
    starter: RecordingStarter = field(default_factory=RecordingStarter)
    events: RecordingEvents = field(default_factory=RecordingEvents)

    def __post_init__(self) -> None:
        self.inventory = InMemoryInventory(self.products, self.orders)
        self.catalog = CatalogService(self.products, self.clock, CursorCodec("k" * 32, "products"))
        self.order_service = OrderService(self.orders, self.products, self.queue, self.clock, "k" * 32, self.users)
        self.order_dispatcher = OrderDispatcher(self.orders, self.starter, self.clock)
        self.order_workflow = OrderWorkflow(
            self.orders, self.products, self.users, self.inventory, self.payments, self.events, self.clock
        )

    def add_user(self, user_id: str) -> Principal:
        from app.domain.users import User

        now = self.clock()
        if self.users.get(user_id) is None:
            self.users.add(User(user_id, "N", f"{user_id}@example.com", now, now))
        return Principal(sub=user_id)


Task = Callable[[dict[str, Any]], Any]


class AslExecution:
    """Runs the real definition one state at a time: Task resources by substitution name, Retry, Catch."""

    def __init__(self, tasks: dict[str, Task], payload: dict[str, Any]) -> None:
        self.definition = json.loads(DEFINITION.read_text())
        self.tasks = tasks
        self.state: str | None = self.definition["StartAt"]
        self.data: Any = payload
        self.outcome: str | None = None  # SUCCEEDED or FAILED
        self.visited: list[str] = []

    def run(self) -> AslExecution:
        while self.outcome is None:
            self.step()
        return self

    def step(self) -> None:
        assert self.state is not None
        spec = self.definition["States"][self.state]
        self.visited.append(self.state)
        if spec["Type"] in ("Succeed", "Fail"):
            self.outcome = "SUCCEEDED" if spec["Type"] == "Succeed" else "FAILED"
            self.state = None
            return
        assert spec["Type"] == "Task"
        name = spec["Resource"].removeprefix("${").removesuffix("}")
        try:
            result = self._attempt(spec, self.tasks[name])
        except Exception as exc:
            catcher = next(c for c in spec.get("Catch", []) if _matches(c["ErrorEquals"], exc))
            self.data = _place(self.data, {"Error": type(exc).__name__, "Cause": str(exc)}, catcher["ResultPath"])
            self.state = catcher["Next"]
            return
        self.data = _place(self.data, result, spec.get("ResultPath", "$"))
        self.state = None if spec.get("End") else spec["Next"]
        if self.state is None:
            self.outcome = "SUCCEEDED"

    def _attempt(self, spec: dict[str, Any], task: Task) -> Any:
        attempts = 0
        while True:
            try:
                return task(self.data)
            except Exception as exc:
                retrier = next((r for r in spec.get("Retry", []) if _matches(r["ErrorEquals"], exc)), None)
                attempts += 1
                if retrier is None or attempts > retrier["MaxAttempts"]:
                    raise


def _matches(names: list[str], exc: Exception) -> bool:
    return "States.ALL" in names or type(exc).__name__ in names


def _place(data: Any, value: Any, path: str | None) -> Any:
    if path is None:
        return data
    if path == "$":
        return value
    key = path.removeprefix("$.")
    return {**data, key: value}
