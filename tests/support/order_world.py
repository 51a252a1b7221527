"""The service built through its composition root on in-memory fakes, plus a runner of the real ASL definition."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.adapters.secrets import StaticSecret
from app.bootstrap import Ports, bootstrap
from app.domain.auth import ADMIN, Principal
from app.services.tokens import SecretKeys
from app.settings import Settings
from tests.support.event_fakes import InMemoryAnalytics, InMemoryStockWatch
from tests.support.fakes import (
    FakeClock,
    FakePaymentGateway,
    FakeProbe,
    InMemoryInventory,
    InMemoryOrders,
    InMemoryProducts,
    InMemoryUserRepository,
    RecordingEvents,
    RecordingPublisher,
    RecordingQueue,
    RecordingStarter,
)
from tests.support.import_fakes import InMemoryBucket, InMemoryImports, RecordingContinuations
from tests.support.tokens import SECRET

DEFINITION = Path(__file__).resolve().parents[2] / "infra" / "statemachine" / "order_workflow.asl.json"
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

    analytics: InMemoryAnalytics = field(default_factory=InMemoryAnalytics)
    notifications: RecordingPublisher = field(default_factory=RecordingPublisher)
    user_events: RecordingPublisher = field(default_factory=RecordingPublisher)

    def __post_init__(self) -> None:
        self.inventory = InMemoryInventory(self.products, self.orders)
        self.imports = InMemoryImports()
        self.bucket = InMemoryBucket(clock=self.clock)
        self.continuations = RecordingContinuations()
        self.database = FakeProbe("dynamodb")
        # The service's own composition root, with every AWS adapter replaced by a fake (mypy checks each).
        self.settings = Settings(_env_file=None, cursor_signing_key="k" * 32)
        self.ports = Ports(
            users=self.users,
            user_events=self.user_events,
            products=self.products,
            orders=self.orders,
            inventory=self.inventory,
            payments=self.payments,
            order_queue=self.queue,
            workflow=self.starter,
            order_events=self.events,
            notifications=self.notifications,
            analytics=self.analytics,
            stock=InMemoryStockWatch(self.products),
            imports=self.imports,
            import_store=self.bucket,
            continuations=self.continuations,
            token_keys=SecretKeys(StaticSecret(SECRET)),
            health_probes=([self.database], []),
            clock=self.clock,
        )
        self.container = bootstrap(self.settings, self.ports)
        self.catalog = self.container.catalog
        self.order_service = self.container.orders
        self.order_dispatcher = self.container.order_dispatcher
        self.order_workflow = self.container.order_workflow

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
        if spec["Type"] == "Choice":
            self.state = _choose(spec, self.data)
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


def _choose(spec: dict[str, Any], data: Any) -> str:
    """The Next of the first rule whose `$.field` equals its StringEquals (the only rules the definition uses)."""
    for rule in spec["Choices"]:
        assert set(rule) == {"Variable", "StringEquals", "Next"}, rule
        if isinstance(data, dict) and data.get(rule["Variable"].removeprefix("$.")) == rule["StringEquals"]:
            return str(rule["Next"])
    return str(spec["Default"])


def _matches(names: list[str], exc: Exception) -> bool:
    return "States.ALL" in names or type(exc).__name__ in names


def _place(data: Any, value: Any, path: str | None) -> Any:
    if path is None:
        return data
    if path == "$":
        return value
    key = path.removeprefix("$.")
    return {**data, key: value}
