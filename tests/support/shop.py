"""The stock-and-money property, run on the fakes and on the DynamoDB adapters alike.

Random restocks, orders (some declined), cancellations, interleaved and duplicated saga steps, duplicate
whole executions (Express workflows are at-least-once), reprices, commit faults, shards added while orders
flow, and steps that crash after their write; afterwards every order is final, nothing is held, sold stock
matches the confirmed orders, and the money kept is exactly the confirmed totals. Throughout, no stock is
oversold or lost, an order fails for stock only while its product lacks the units, and a sold-out refusal
comes only when nothing is available or reserved.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from hypothesis import strategies as st

from app.adapters.dynamodb.inventory import DynamoInventory
from app.adapters.dynamodb.orders import DynamoOrderRepository
from app.adapters.dynamodb.payments import SimulatedPaymentGateway
from app.adapters.dynamodb.products import DynamoProductRepository
from app.adapters.dynamodb.stock_shards import ShardCounts
from app.bootstrap import Container, bootstrap
from app.domain.errors import CommitFailed, InsufficientInventory, ServiceUnavailable, SoldOut
from app.domain.orders import FINAL, Order, OrderStatus
from app.domain.payments import DECLINED_TOKEN
from app.domain.products import SHARDS_MAX, Product
from app.services.ports.orders import Inventory, OrderRepository, ProductRepository
from infra.local.provision import client as aws
from infra.local.template import Stack, load_template
from tests.support.order_world import AslExecution, OrderWorld, Task

PRODUCTS = ("mug", "tea", "pen")
line = st.tuples(st.sampled_from(PRODUCTS), st.integers(1, 3))
action = st.one_of(
    st.tuples(st.just("restock"), st.sampled_from(PRODUCTS), st.integers(1, 4)),
    st.tuples(st.just("place"), st.lists(line, min_size=1, max_size=3, unique_by=lambda x: x[0]), st.booleans()),
    st.tuples(st.just("cancel"), st.integers(0, 20)),
    st.tuples(st.just("step"), st.integers(0, 20), st.booleans()),
    st.tuples(st.just("reprice"), st.sampled_from(PRODUCTS)),
    st.tuples(st.just("commit_fault"), st.booleans()),
    # Express workflows run at least once: a second whole execution of an order, interleaved with the others.
    st.tuples(st.just("duplicate"), st.integers(0, 20)),
    # Shards added while orders flow; a step whose work is applied but whose answer is lost (a crash).
    st.tuples(st.just("reshard"), st.sampled_from(PRODUCTS), st.integers(1, 3)),
    st.tuples(st.just("crash"), st.sampled_from(["reserve", "release", "commit"])),
)
Handlers = Callable[[bool], dict[str, Task]]


@functools.cache
def wired_handlers() -> dict[str, Any]:
    """Substitution name -> the handler function the template wires it to."""
    template = load_template()
    props = template["Resources"]["OrderWorkflow"]["Properties"]
    wired: dict[str, Any] = {}
    for name, ref in props["DefinitionSubstitutions"].items():
        target = ref["Fn::GetAtt"]
        logical = target[0] if isinstance(target, list) else target.split(".")[0]
        path = template["Resources"][logical]["Properties"]["ImageConfig"]["Command"][0]
        module, _, attr = path.rpartition(".")
        wired[name] = getattr(importlib.import_module(module), attr)
    return wired


def wired_tasks(duplicate: bool = False) -> dict[str, Task]:
    """The wired handlers as tasks (each run twice if `duplicate`, as a re-delivered task would be)."""

    def bind(handler: Any) -> Task:
        def call(data: dict[str, Any]) -> Any:
            result = handler(data, None)
            return handler(data, None) if duplicate else result

        return call

    return {name: bind(handler) for name, handler in wired_handlers().items()}


class Shop:
    """The fakes' view: the world's own container, read through the fakes' state."""

    def __init__(self, world: OrderWorld) -> None:
        self.world = world
        self.inventory = AuditedInventory(world.inventory, world.orders, world.products)
        self.container: Container = bootstrap(world.settings, replace(world.ports, inventory=self.inventory))

    def commit_fault(self, on: bool) -> None:
        """Make every commit fail (CommitFailed), as a broken inventory would."""
        self.inventory.fail_commit = on

    def products(self) -> list[Product]:
        """Every product as stored."""
        return list(self.world.products.products.values())

    def order(self, order_id: str) -> Order:
        """The order as stored."""
        return self.world.orders.orders[order_id]

    def money(self) -> tuple[int, int]:
        """(charged, refunded) in minor units."""
        charged = sum(m.amount for m in self.world.payments.charges.values())
        return charged, sum(m.amount for m in self.world.payments.refunds.values())


@dataclass
class AuditedInventory:
    """The real inventory, checked: a stock refusal must be true; commits can fail; a step can crash after its write."""

    inner: Inventory
    orders: OrderRepository
    products: ProductRepository
    fail_commit: bool = field(default=False)
    crash: set[str] = field(default_factory=set)

    def reserve(self, order: Order, now: datetime) -> None:
        """As the inner inventory; a refusal for stock is checked against the products as they stand."""
        try:
            self.inner.reserve(order, now)
        except InsufficientInventory:
            stock = self.products.get_many([x.product_id for x in order.lines])
            assert any(x.product_id not in stock or stock[x.product_id].available < x.quantity for x in order.lines), (
                f"refused for stock while every line's units were there: {order.lines} {stock}"
            )
            raise
        self._crash("reserve")

    def release(self, order: Order, now: datetime) -> bool:
        """As the inner inventory."""
        released = self.inner.release(order, now)
        self._crash("release")
        return released

    def commit(self, order: Order, now: datetime) -> Order:
        """CommitFailed while failing, except for an order already confirmed (a commit is idempotent)."""
        current = self.orders.get(order.id)
        if self.fail_commit and not (current is not None and current.status is OrderStatus.CONFIRMED):
            raise CommitFailed(order.id)
        committed = self.inner.commit(order, now)
        self._crash("commit")
        return committed

    def _crash(self, step: str) -> None:
        """The write is applied; the answer is lost once (the task is retried, as Lambda would run it again)."""
        if step in self.crash:
            self.crash.discard(step)
            raise ServiceUnavailable(f"{step} applied, then the function died")


class DynamoShop(Shop):
    """The same services on the DynamoDB adapters (products, orders, inventory, payments) of the local cloud."""

    def __init__(self, world: OrderWorld, stack: Stack) -> None:
        super().__init__(world)
        self.stack = stack
        dynamodb = aws(stack, "dynamodb")
        self.orders = DynamoOrderRepository(dynamodb, stack.name("OrdersTable"), stack.name("IdempotencyTable"))
        self.product_repo = DynamoProductRepository(dynamodb, stack.name("ProductsTable"), ShardCounts())
        inner = DynamoInventory(dynamodb, stack.name("ProductsTable"), self.orders, ShardCounts())
        self.inventory = AuditedInventory(inner, self.orders, self.product_repo)
        payments = SimulatedPaymentGateway(dynamodb, stack.name("PaymentsTable"), 100_000, world.clock)
        ports = replace(
            world.ports, products=self.product_repo, orders=self.orders, inventory=self.inventory, payments=payments
        )
        self.container = bootstrap(world.settings, ports)

    def products(self) -> list[Product]:
        """Every product as DynamoDB holds it."""
        return [p for pid in PRODUCTS if (p := self.product_repo.get(pid)) is not None]

    def order(self, order_id: str) -> Order:
        """The order as DynamoDB holds it."""
        found = self.orders.get(order_id)
        assert found is not None, order_id
        return found

    def money(self) -> tuple[int, int]:
        """(charged, refunded), from the payments ledger."""
        items = aws(self.stack, "dynamodb").scan(TableName=self.stack.name("PaymentsTable"))["Items"]
        entries = [(i["entry"]["S"], int(i["amount"]["N"])) for i in items if "amount" in i]
        return sum(a for e, a in entries if e == "CHARGE"), sum(a for e, a in entries if e == "REFUND")


def exercise(shop: Shop, handlers: Handlers, actions: list[tuple[Any, ...]]) -> None:
    """Play the actions, run every execution to its end, then check the invariants."""
    owner = shop.world.add_user("u1")
    for pid in PRODUCTS:
        shop.container.catalog.put(pid, pid, 100, "USD")
    executions: list[AslExecution] = []
    for act in actions:
        _play(shop, handlers, executions, act, owner, len(actions))
        check_stock(shop)
    for ex in executions:
        ex.tasks = handlers(False)
        ex.run()
    check_stock(shop)
    orders = [shop.order(order_id) for order_id in {ex.data["orderId"] for ex in executions}]
    assert all(o.status in FINAL for o in orders)
    assert all(p.reserved == 0 for p in shop.products())
    confirmed = [o for o in orders if o.status is OrderStatus.CONFIRMED]
    for product in shop.products():
        assert product.sold == sum(x.quantity for o in confirmed for x in o.lines if x.product_id == product.id)
    charged, refunded = shop.money()
    assert charged - refunded == sum(o.total.amount for o in confirmed)


def _play(
    shop: Shop, handlers: Handlers, executions: list[AslExecution], act: tuple[Any, ...], owner: Any, n: int
) -> None:
    kind, services = act[0], shop.container
    if kind == "restock":
        services.catalog.restock(act[1], act[2])
    elif kind == "place":
        try:
            placed = services.orders.place("u1", act[1], payment_token=DECLINED_TOKEN if act[2] else "tok_visa")
        except SoldOut:
            stock = {p.id: p for p in shop.products()}
            assert any(stock[pid].available == stock[pid].reserved == 0 for pid, _ in act[1]), stock
            return
        if services.order_dispatcher.dispatch(placed.order.id) == "started":
            executions.append(AslExecution(handlers(False), {"orderId": placed.order.id}))
    elif kind == "cancel" and executions:
        order_id = executions[act[1] % len(executions)].data["orderId"]
        if shop.order(order_id).cancellable:
            services.orders.cancel(order_id, owner)
    elif kind == "step" and executions:
        ex = executions[act[1] % len(executions)]
        if ex.outcome is None:
            ex.tasks = handlers(act[2])
            ex.step()
    elif kind == "reprice":
        services.catalog.put(act[1], act[1], 100 + n, "USD")
    elif kind == "commit_fault":
        shop.commit_fault(act[1])
    elif kind == "reshard":
        current = services.catalog.get(act[1]).shards
        if current + act[2] <= SHARDS_MAX:
            services.catalog.reshard(act[1], current + act[2])
    elif kind == "crash":
        shop.inventory.crash.add(act[1])
    elif kind == "duplicate" and executions:
        order_id = executions[act[1] % len(executions)].data["orderId"]
        executions.append(AslExecution(handlers(False), {"orderId": order_id}))


def check_stock(shop: Shop) -> None:
    """No stock is negative, and none is created or lost."""
    for p in shop.products():
        assert p.available >= 0
        assert p.reserved >= 0
        assert p.available + p.reserved + p.sold == p.added
