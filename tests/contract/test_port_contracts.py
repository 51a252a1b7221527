"""One contract per port, run against the in-memory fake and the DynamoDB adapter alike.

The fakes stand in for the adapters in every unit and API test; these tests are what make that honest.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import pytest

from app.adapters.dynamodb.inventory import DynamoInventory
from app.adapters.dynamodb.orders import DynamoOrderRepository
from app.adapters.dynamodb.payments import SimulatedPaymentGateway
from app.adapters.dynamodb.products import DynamoProductRepository
from app.adapters.dynamodb.stock_shards import ShardCounts
from app.domain.errors import CommitFailed, IllegalTransition, InsufficientInventory, PaymentFailed
from app.domain.money import Money
from app.domain.orders import InventoryState, Order, OrderLine, OrderStatus, PaymentState
from app.domain.payments import DECLINED_TOKEN
from app.services.ports.orders import (
    IdempotencyClaim,
    Inventory,
    KeyAlreadyClaimed,
    OrderRepository,
    PaymentGateway,
    ProductRepository,
)
from infra.local.provision import client as aws
from tests.support.fakes import FakeClock, FakePaymentGateway, InMemoryInventory, InMemoryOrders, InMemoryProducts

T0 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


@dataclass
class Backend:
    """The ports under test, all from one backend."""

    orders: OrderRepository
    products: ProductRepository
    inventory: Inventory
    payments: PaymentGateway


@pytest.fixture(params=["fake", "dynamodb"])
def backend(request: pytest.FixtureRequest) -> Iterator[Backend]:
    if request.param == "fake":
        orders, products = InMemoryOrders(), InMemoryProducts()
        yield Backend(orders, products, InMemoryInventory(products, orders), FakePaymentGateway())
        return
    stack = request.getfixturevalue("stack")
    dynamodb = aws(stack, "dynamodb")  # the tooling's identity: these calls belong to no function
    repo = DynamoOrderRepository(dynamodb, stack.name("OrdersTable"), stack.name("IdempotencyTable"))
    products_table = stack.name("ProductsTable")
    seen = ShardCounts()  # what this backend learned of shard counts, not what an earlier test's did
    yield Backend(
        repo,
        DynamoProductRepository(dynamodb, products_table, seen),
        DynamoInventory(dynamodb, products_table, repo, seen),
        SimulatedPaymentGateway(dynamodb, stack.name("PaymentsTable"), 100_000, FakeClock(T0)),
    )


def order(order_id: str, *lines: tuple[str, int], user: str = "ada") -> Order:
    items = tuple(OrderLine(pid, qty, 500) for pid, qty in lines)
    return Order(order_id, user, items, "USD", OrderStatus.PENDING, T0, T0)


def stocked(backend: Backend, **stock: int) -> None:
    for pid, qty in stock.items():
        backend.products.upsert(pid, pid.title(), Money(500, "USD"), T0)
        backend.products.restock(pid, qty, T0)


def processing(backend: Backend, placed: Order) -> Order:
    backend.orders.add(placed, None)
    return backend.orders.transition(placed.id, OrderStatus.PROCESSING, T0)


# ------------------------------------------------------------------ OrderRepository


def test_an_order_is_stored_and_read_back(backend: Backend) -> None:
    placed = order("o-1", ("mug", 2))
    backend.orders.add(placed, None)
    assert backend.orders.get("o-1") == placed
    assert backend.orders.get("o-unknown") is None


def test_an_idempotency_key_claims_once(backend: Backend) -> None:
    claim = IdempotencyClaim("ada#k1", "fingerprint-1", T0 + timedelta(hours=24))
    backend.orders.add(order("o-1", ("mug", 1)), claim)
    with pytest.raises(KeyAlreadyClaimed) as taken:
        backend.orders.add(order("o-2", ("mug", 1)), IdempotencyClaim("ada#k1", "other", T0))
    assert (taken.value.order_id, taken.value.fingerprint) == ("o-1", "fingerprint-1")
    assert backend.orders.get("o-2") is None  # all or nothing


def test_transitions_follow_the_status_machine(backend: Backend) -> None:
    backend.orders.add(order("o-1", ("mug", 1)), None)
    with pytest.raises(IllegalTransition):
        backend.orders.transition("o-1", OrderStatus.CONFIRMED, T0)
    moved = backend.orders.transition("o-1", OrderStatus.PROCESSING, T0)
    assert backend.orders.transition("o-1", OrderStatus.PROCESSING, T0) == moved  # already there
    failed = backend.orders.transition("o-1", OrderStatus.FAILED, T0, reason="PaymentFailed")
    assert (failed.status, failed.reason, failed.outbox) == (OrderStatus.FAILED, "PaymentFailed", "OrderFailed")
    with pytest.raises(IllegalTransition):
        backend.orders.transition("o-1", OrderStatus.CANCELLED, T0)


def test_a_started_payment_blocks_cancel(backend: Backend) -> None:
    stocked(backend, mug=5)
    placed = processing(backend, order("o-1", ("mug", 1)))
    backend.inventory.reserve(placed, T0)
    assert backend.orders.start_payment("o-1", T0).payment is PaymentState.CHARGING
    with pytest.raises(IllegalTransition):
        backend.orders.transition("o-1", OrderStatus.CANCELLED, T0)


def test_the_outbox_is_cleared_once(backend: Backend) -> None:
    backend.orders.add(order("o-1", ("mug", 1)), None)
    backend.orders.transition("o-1", OrderStatus.FAILED, T0, reason="Expired")
    backend.orders.clear_outbox("o-1", "OrderProcessed")  # another event: kept
    assert backend.orders.get("o-1").outbox == "OrderFailed"  # type: ignore[union-attr]
    backend.orders.clear_outbox("o-1", "OrderFailed")
    backend.orders.clear_outbox("o-1", "OrderFailed")
    assert backend.orders.get("o-1").outbox is None  # type: ignore[union-attr]


def test_a_users_orders_are_listed_newest_first(backend: Backend) -> None:
    for i in range(3):
        placed = order(f"o-{i}", ("mug", 1))
        later = T0 + timedelta(minutes=i)
        backend.orders.add(replace(placed, created_at=later, updated_at=later), None)
    backend.orders.add(order("o-other", ("mug", 1), user="bob"), None)
    first = backend.orders.page_for_user("ada", 2, None)
    assert [o.id for o in first.items] == ["o-2", "o-1"]
    rest = backend.orders.page_for_user("ada", 2, first.next_key)
    assert [o.id for o in rest.items] == ["o-0"]


# ------------------------------------------------------------------ Inventory


def test_a_reservation_moves_every_line_or_none(backend: Backend) -> None:
    stocked(backend, mug=5, tea=1)
    short = processing(backend, order("o-1", ("mug", 2), ("tea", 2)))
    with pytest.raises(InsufficientInventory):
        backend.inventory.reserve(short, T0)
    assert (backend.products.get("mug").available, backend.products.get("mug").reserved) == (5, 0)  # type: ignore[union-attr]
    fits = processing(backend, order("o-2", ("mug", 2), ("tea", 1)))
    backend.inventory.reserve(fits, T0)
    backend.inventory.reserve(fits, T0)  # a re-run reserves nothing more
    mug = backend.products.get("mug")
    assert (mug.available, mug.reserved) == (3, 2)  # type: ignore[union-attr]
    assert backend.orders.get("o-2").inventory is InventoryState.RESERVED  # type: ignore[union-attr]


def test_a_reservation_is_released_once(backend: Backend) -> None:
    stocked(backend, mug=5)
    placed = processing(backend, order("o-1", ("mug", 2)))
    assert backend.inventory.release(placed, T0) is False  # nothing held yet
    backend.inventory.reserve(placed, T0)
    assert backend.inventory.release(placed, T0) is True
    assert backend.inventory.release(placed, T0) is False
    mug = backend.products.get("mug")
    assert (mug.available, mug.reserved, mug.sold, mug.added) == (5, 0, 0, 5)  # type: ignore[union-attr]


def test_commit_needs_a_charge_and_confirms_with_its_event_owed(backend: Backend) -> None:
    stocked(backend, mug=5)
    placed = processing(backend, order("o-1", ("mug", 2)))
    backend.inventory.reserve(placed, T0)
    with pytest.raises(CommitFailed):
        backend.inventory.commit(placed, T0)
    backend.orders.start_payment("o-1", T0)
    confirmed = backend.inventory.commit(placed, T0)
    assert (confirmed.status, confirmed.inventory, confirmed.payment, confirmed.outbox) == (
        OrderStatus.CONFIRMED,
        InventoryState.COMMITTED,
        PaymentState.CHARGED,  # recorded by the commit: the charge itself writes nothing after the gateway
        "OrderProcessed",
    )
    assert backend.inventory.commit(placed, T0).status is OrderStatus.CONFIRMED  # a re-run changes nothing
    mug = backend.products.get("mug")
    assert (mug.available, mug.reserved, mug.sold) == (3, 0, 2)  # type: ignore[union-attr]


def test_a_restock_spreads_over_the_shards_and_the_counters_stay_sums(backend: Backend) -> None:
    stocked(backend, mug=3)
    grown = backend.products.add_shards("mug", 4, T0)
    assert (grown.shards, grown.available, grown.added) == (4, 3, 3)
    backend.products.restock("mug", 10, T0)
    mug = backend.products.get("mug")
    assert (mug.shards, mug.available, mug.reserved, mug.sold, mug.added) == (4, 13, 0, 0, 13)  # type: ignore[union-attr]
    assert backend.products.get_many(["mug"])["mug"].available == 13


def test_a_reservation_takes_its_units_wherever_they_are_left(backend: Backend) -> None:
    stocked(backend, mug=0)
    backend.products.add_shards("mug", 3, T0)
    backend.products.restock("mug", 3, T0)  # one unit on each shard: no shard alone holds an order of 3
    placed = processing(backend, order("o-1", ("mug", 3)))
    backend.inventory.reserve(placed, T0)
    mug = backend.products.get("mug")
    assert (mug.available, mug.reserved) == (0, 3)  # type: ignore[union-attr]
    backend.orders.start_payment("o-1", T0)
    backend.inventory.commit(backend.orders.get("o-1"), T0)  # type: ignore[arg-type]
    mug = backend.products.get("mug")
    assert (mug.available, mug.reserved, mug.sold, mug.added) == (0, 0, 3, 3)  # type: ignore[union-attr]


def test_a_release_gives_back_exactly_the_shards_units(backend: Backend) -> None:
    stocked(backend, mug=0)
    backend.products.add_shards("mug", 2, T0)
    backend.products.restock("mug", 4, T0)
    placed = processing(backend, order("o-1", ("mug", 3)))
    backend.inventory.reserve(placed, T0)
    assert backend.inventory.release(backend.orders.get("o-1"), T0) is True  # type: ignore[arg-type]
    mug = backend.products.get("mug")
    assert (mug.available, mug.reserved, mug.added) == (4, 0, 4)  # type: ignore[union-attr]


def test_sold_out_is_flagged_once_nothing_can_come_back_and_a_restock_clears_it(backend: Backend) -> None:
    stocked(backend, mug=1)
    first = processing(backend, order("o-1", ("mug", 1)))
    backend.inventory.reserve(first, T0)
    with pytest.raises(InsufficientInventory):
        backend.inventory.reserve(processing(backend, order("o-2", ("mug", 1))), T0)
    assert backend.products.get("mug").sold_out is False  # type: ignore[union-attr]  # o-1's unit may come back
    backend.orders.start_payment("o-1", T0)
    backend.inventory.commit(backend.orders.get("o-1"), T0)  # type: ignore[arg-type]
    with pytest.raises(InsufficientInventory):
        backend.inventory.reserve(processing(backend, order("o-3", ("mug", 1))), T0)
    assert backend.products.get_many(["mug"])["mug"].sold_out is True
    assert backend.products.restock("mug", 2, T0).sold_out is False


# ------------------------------------------------------------------ PaymentGateway


def test_a_charge_happens_once_and_a_refund_once(backend: Backend) -> None:
    backend.payments.charge("o-1", Money(500, "USD"), "tok_visa")
    backend.payments.charge("o-1", Money(500, "USD"), "tok_visa")
    assert backend.payments.refund("o-1") is True
    assert backend.payments.refund("o-1") is False
    assert backend.payments.refund("o-never-charged") is False


@pytest.mark.parametrize(("amount", "token"), [(500, DECLINED_TOKEN), (100_001, "tok_visa")])
def test_a_declined_charge_is_payment_failed_and_owes_no_refund(backend: Backend, amount: int, token: str) -> None:
    with pytest.raises(PaymentFailed):
        backend.payments.charge("o-1", Money(amount, "USD"), token)
    assert backend.payments.refund("o-1") is False
