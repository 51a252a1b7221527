"""In-memory fakes of the ports, for unit tests of services. They keep state to assert on."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from app.domain import payments as payment_rules
from app.domain.errors import (
    CommitFailed,
    Conflict,
    EmailAlreadyExists,
    IllegalTransition,
    InsufficientInventory,
    NotFound,
    OrderCancelled,
    PreconditionFailed,
)
from app.domain.money import Money
from app.domain.orders import InventoryState, Order, OrderStatus, PaymentState, StockTake, can_move
from app.domain.products import Product
from app.domain.users import User
from app.services.ports.common import Message, Page, PageKey
from app.services.ports.orders import IdempotencyClaim, KeyAlreadyClaimed


class FakeClock:
    """A clock that moves only when told."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class InMemoryUserRepository:
    """Users by id, with the same uniqueness and version rules as DynamoDB's."""

    users: dict[str, User] = field(default_factory=dict)

    def add(self, user: User) -> None:
        if user.id in self.users or any(u.email == user.email for u in self.users.values()):
            raise EmailAlreadyExists(user.email)
        self.users[user.id] = user

    def get(self, user_id: str) -> User | None:
        return self.users.get(user_id)

    def get_by_email(self, email: str) -> User | None:
        return next((u for u in self.users.values() if u.email == email), None)

    def page(self, limit: int, start: PageKey | None) -> Page[User, PageKey]:
        ids = sorted(self.users)
        after = start["id"] if start else None
        rest = [i for i in ids if after is None or i > after]
        chosen = rest[:limit]
        next_key = {"id": chosen[-1]} if len(rest) > limit else None
        return Page(items=[self.users[i] for i in chosen], next_key=next_key)

    def update(self, user: User, previous: User) -> None:
        current = self.users.get(previous.id)
        if current is None or current.version != previous.version:
            raise PreconditionFailed(previous.id)
        if any(u.email == user.email and u.id != user.id for u in self.users.values()):
            raise EmailAlreadyExists(user.email)
        self.users[user.id] = user

    def delete(self, user: User) -> None:
        current = self.users.get(user.id)
        if current is None or current.version != user.version:
            raise PreconditionFailed(user.id)
        del self.users[user.id]


@dataclass
class RecordingPublisher:
    """Keeps every published message."""

    messages: list[Message] = field(default_factory=list)

    def publish(self, message: Message) -> None:
        self.messages.append(message)


# ---------------------------------------------------------------- catalog and orders


COUNTERS = ("available", "reserved", "sold", "added")


@dataclass
class InMemoryProducts:
    """Products by id, their stock in shards; counters change only through restock and InMemoryInventory."""

    products: dict[str, Product] = field(default_factory=dict)
    shelves: dict[str, list[dict[str, int]]] = field(default_factory=dict)

    def upsert(self, product_id: str, name: str, price: Money, now: datetime) -> Product:
        current = self.products.get(product_id)
        if current is None:
            product = Product(product_id, name, price, now, now)
        else:
            product = replace(current, name=name, price=price, updated_at=now)
        self.products[product_id] = product
        return product

    def shelf(self, product_id: str) -> list[dict[str, int]]:
        """The product's shards' counters (a product put in by a test holds its counters in one shard)."""
        if product_id not in self.shelves:
            p = self.products[product_id]
            self.shelves[product_id] = [{k: getattr(p, k) for k in COUNTERS}]
        return self.shelves[product_id]

    def settle(self, product_id: str, **changes: Any) -> Product:
        """Write the sums of the product's shards (and any other change) into its entity."""
        shelf = self.shelf(product_id)
        totals: dict[str, Any] = {k: sum(s[k] for s in shelf) for k in COUNTERS}
        product = replace(self.products[product_id], **totals, shards=len(shelf), **changes)
        self.products[product_id] = product
        return product

    def restock(self, product_id: str, quantity: int, now: datetime) -> Product:
        if product_id not in self.products:
            raise NotFound(product_id)
        shelf = self.shelf(product_id)
        base, extra = divmod(quantity, len(shelf))
        for k, shard in enumerate(shelf):
            units = base + (1 if k < extra else 0)
            shard["available"] += units
            shard["added"] += units
        return self.settle(product_id, updated_at=now, sold_out=False)

    def add_shards(self, product_id: str, count: int, now: datetime) -> Product:
        if product_id not in self.products:
            raise NotFound(product_id)
        shelf = self.shelf(product_id)
        if count <= len(shelf):
            raise Conflict(product_id)
        shelf.extend(dict.fromkeys(COUNTERS, 0) for _ in range(count - len(shelf)))
        return self.settle(product_id, updated_at=now)

    def get(self, product_id: str) -> Product | None:
        return self.products.get(product_id)

    def get_many(self, product_ids: Collection[str]) -> dict[str, Product]:
        return {i: self.products[i] for i in product_ids if i in self.products}

    def page(self, limit: int, start: PageKey | None) -> Page[Product, PageKey]:
        ids = sorted(self.products)
        rest = [i for i in ids if start is None or i > start["productId"]]
        chosen = rest[:limit]
        next_key = {"productId": chosen[-1]} if len(rest) > limit else None
        return Page(items=[self.products[i] for i in chosen], next_key=next_key)


@dataclass
class InMemoryOrders:
    """Orders by id and idempotency claims by key, with the adapters' conditional rules."""

    orders: dict[str, Order] = field(default_factory=dict)
    claims: dict[str, tuple[str, str]] = field(default_factory=dict)

    def add(self, order: Order, claim: IdempotencyClaim | None) -> None:
        if claim is not None:
            if claim.key in self.claims:
                raise KeyAlreadyClaimed(*self.claims[claim.key])
            self.claims[claim.key] = (order.id, claim.fingerprint)
        self.orders[order.id] = order

    def get(self, order_id: str) -> Order | None:
        return self.orders.get(order_id)

    def claimed(self, key: str, now: datetime) -> KeyAlreadyClaimed | None:
        return KeyAlreadyClaimed(*self.claims[key]) if key in self.claims else None

    def page_for_user(self, user_id: str, limit: int, start: PageKey | None) -> Page[Order, PageKey]:
        mine = sorted(
            (o for o in self.orders.values() if o.user_id == user_id), key=lambda o: (o.created_at, o.id), reverse=True
        )
        if start is not None:
            mine = [o for o in mine if (o.created_at.isoformat(), o.id) < (start["createdAt"], start["orderId"])]
        chosen = mine[:limit]
        last = chosen[-1] if chosen else None
        more = len(mine) > limit and last is not None
        next_key = {"createdAt": last.created_at.isoformat(), "orderId": last.id} if more and last else None
        return Page(items=chosen, next_key=next_key)

    def _must(self, order_id: str) -> Order:
        order = self.orders.get(order_id)
        if order is None:
            raise NotFound(order_id)
        return order

    def transition(self, order_id: str, target: OrderStatus, now: datetime, reason: str | None = None) -> Order:
        order = self._must(order_id)
        if order.status is target:
            return order
        if target is OrderStatus.CANCELLED and not order.cancellable:
            raise IllegalTransition(order_id)
        moved = order.moved(target, now, reason)
        self.orders[order_id] = moved
        return moved

    def start_payment(self, order_id: str, now: datetime) -> Order:
        order = self._must(order_id)
        if order.status is OrderStatus.CANCELLED:
            raise OrderCancelled(order_id)
        if order.status is not OrderStatus.PROCESSING or order.inventory is not InventoryState.RESERVED:
            raise IllegalTransition(order_id)
        if order.payment is None:
            order = replace(order, payment=PaymentState.CHARGING, updated_at=now)
            self.orders[order_id] = order
        return order

    def clear_outbox(self, order_id: str, event: str) -> None:
        order = self._must(order_id)
        if order.outbox == event:
            self.orders[order_id] = replace(order, outbox=None)


@dataclass
class InMemoryInventory:
    """Reserve, release and commit over the two stores and the products' shards, all-or-nothing."""

    products: InMemoryProducts
    orders: InMemoryOrders
    fail_commit: bool = False

    def _move(self, takes: tuple[StockTake, ...], **deltas: int) -> None:
        for take in takes:
            shard = self.products.shelf(take.product_id)[take.shard]
            for name, sign in deltas.items():
                shard[name] += sign * take.quantity
        for product_id in {t.product_id for t in takes}:
            self.products.settle(product_id)

    def _plan(self, order: Order) -> tuple[StockTake, ...]:
        """Each line from the shards that hold units, fullest first; InsufficientInventory if the product lacks them."""
        takes: list[StockTake] = []
        for line in order.lines:
            if line.product_id not in self.products.products:
                raise InsufficientInventory(line.product_id)
            shelf = self.products.shelf(line.product_id)
            if sum(s["available"] for s in shelf) < line.quantity:
                if all(s["available"] == 0 and s["reserved"] == 0 for s in shelf):
                    self.products.settle(line.product_id, sold_out=True)
                raise InsufficientInventory(line.product_id)
            wanted = line.quantity
            for k in sorted(range(len(shelf)), key=lambda i: -shelf[i]["available"]):
                units = min(wanted, shelf[k]["available"])
                if units:
                    takes.append(StockTake(line.product_id, k, units))
                    wanted -= units
        return tuple(takes)

    def reserve(self, order: Order, now: datetime) -> None:
        current = self.orders._must(order.id)
        if current.inventory is not None:
            return
        if current.status is OrderStatus.CANCELLED:
            raise OrderCancelled(order.id)
        if current.status not in (OrderStatus.PENDING, OrderStatus.PROCESSING):
            raise IllegalTransition(order.id)
        takes = self._plan(order)
        self._move(takes, available=-1, reserved=1)
        reserved = replace(
            current, status=OrderStatus.PROCESSING, inventory=InventoryState.RESERVED, taken=takes, updated_at=now
        )
        self.orders.orders[order.id] = reserved

    def release(self, order: Order, now: datetime) -> bool:
        current = self.orders._must(order.id)
        if current.inventory is not InventoryState.RESERVED:
            return False
        self._move(current.takes(), available=1, reserved=-1)
        self.orders.orders[order.id] = replace(current, inventory=InventoryState.RELEASED, updated_at=now)
        return True

    def commit(self, order: Order, now: datetime) -> Order:
        current = self.orders._must(order.id)
        if current.status is OrderStatus.CONFIRMED:
            return current
        ready = current.inventory is InventoryState.RESERVED and current.payment is not None
        if self.fail_commit or not ready or not can_move(current.status, OrderStatus.CONFIRMED):
            raise CommitFailed(order.id)
        self._move(current.takes(), reserved=-1, sold=1)
        confirmed = replace(
            current.moved(OrderStatus.CONFIRMED, now), inventory=InventoryState.COMMITTED, payment=PaymentState.CHARGED
        )
        self.orders.orders[order.id] = confirmed
        return confirmed


@dataclass
class FakePaymentGateway:
    """The simulated gateway's rules over an in-memory ledger."""

    limit: int = payment_rules.DEFAULT_LIMIT_MINOR
    charges: dict[str, Money] = field(default_factory=dict)
    refunds: dict[str, Money] = field(default_factory=dict)
    attempts: dict[str, int] = field(default_factory=dict)

    def charge(self, order_id: str, amount: Money, token: str) -> None:
        if order_id in self.charges:
            return
        self.attempts[order_id] = self.attempts.get(order_id, 0) + 1
        payment_rules.check_charge(amount, token, self.limit, self.attempts[order_id])
        self.charges[order_id] = amount

    def refund(self, order_id: str) -> bool:
        if order_id not in self.charges or order_id in self.refunds:
            return False
        self.refunds[order_id] = self.charges[order_id]
        return True


@dataclass
class RecordingQueue:
    """Keeps every enqueued order id; can be told to fail."""

    sent: list[str] = field(default_factory=list)
    broken: bool = False

    def enqueue(self, order_id: str) -> None:
        if self.broken:
            raise ConnectionError("queue unreachable")
        self.sent.append(order_id)


@dataclass
class RecordingStarter:
    """Starts each execution name once, like Step Functions."""

    started: dict[str, Mapping[str, Any]] = field(default_factory=dict)

    def start(self, order_id: str, payload: Mapping[str, Any]) -> bool:
        if order_id in self.started:
            return False
        self.started[order_id] = payload
        return True


@dataclass
class RecordingEvents:
    """Keeps every published event."""

    events: list[tuple[str, Mapping[str, Any]]] = field(default_factory=list)

    def publish(self, detail_type: str, detail: Mapping[str, Any]) -> None:
        self.events.append((detail_type, detail))


@dataclass
class FakeProbe:
    """A health probe that is up until told otherwise."""

    name: str
    up: bool = True

    def check(self) -> None:
        if not self.up:
            raise ConnectionError(f"{self.name} is down")
