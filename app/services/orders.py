"""Order use cases of the API: place, read, list and cancel."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from app.domain.auth import Forbidden, Principal
from app.domain.errors import IdempotencyKeyReused, NotFound, SoldOut, ValidationError
from app.domain.orders import (
    DEFAULT_PAYMENT_TOKEN,
    Order,
    OrderStatus,
    check_items,
    price_lines,
    request_fingerprint,
)
from app.domain.products import Product
from app.services.cursor import CursorCodec
from app.services.ports.common import Clock, Page
from app.services.ports.orders import (
    IdempotencyClaim,
    KeyAlreadyClaimed,
    OrderQueue,
    OrderRepository,
    ProductRepository,
)
from app.services.ports.users import UserRepository

IDEMPOTENCY_TTL = timedelta(hours=24)


@dataclass(frozen=True)
class Placed:
    """The outcome of placing an order: the order and whether this request created it."""

    order: Order
    created: bool
    enqueued: bool


class OrderService:
    """Accept orders (PENDING, then enqueued), read, list and cancel them."""

    def __init__(
        self,
        orders: OrderRepository,
        products: ProductRepository,
        queue: OrderQueue,
        clock: Clock,
        cursor_key: str | Callable[[], str],
        users: UserRepository,
    ) -> None:
        self.users = users
        self.orders = orders
        self.products = products
        self.queue = queue
        self.clock = clock
        self.cursor_key = cursor_key

    def place(
        self,
        user_id: str,
        items: Sequence[tuple[str, int]],
        idempotency_key: str | None = None,
        payment_token: str = DEFAULT_PAYMENT_TOKEN,
    ) -> Placed:
        """Price the order from the catalog, store it PENDING, then enqueue it.

        The write comes first: once stored, the order is never lost. If the enqueue fails the
        order stays PENDING and is re-enqueued by a retry with the same Idempotency-Key or by the
        scheduled cleanup, so the 202 still holds.
        """
        wanted = check_items(items)
        if self.users.get(user_id) is None:
            # A deleted (or never created) profile would only fail later, in ValidateOrder: refuse it now.
            raise Forbidden("this token's user has no profile (deleted or never created): create it with POST /users")
        catalog = self.products.get_many([pid for pid, _ in wanted])
        now = self.clock()
        fingerprint = request_fingerprint(wanted, payment_token)
        claim = IdempotencyClaim(f"{user_id}#{idempotency_key}", fingerprint, now + IDEMPOTENCY_TTL)
        replayed = self._unless_sold_out(wanted, catalog, claim if idempotency_key else None, now)
        if replayed is not None:
            return replayed
        lines, currency = price_lines(wanted, catalog)
        order = Order(
            id=str(uuid.uuid4()),
            user_id=user_id,
            lines=lines,
            currency=currency,
            status=OrderStatus.PENDING,
            created_at=now,
            updated_at=now,
            payment_token=payment_token,
        )
        try:
            self.orders.add(order, claim if idempotency_key else None)
        except KeyAlreadyClaimed as taken:
            return self._replay(taken, fingerprint)
        return Placed(order, created=True, enqueued=self._enqueue(order))

    def _unless_sold_out(
        self,
        wanted: Sequence[tuple[str, int]],
        catalog: Mapping[str, Product],
        claim: IdempotencyClaim | None,
        now: datetime,
    ) -> Placed | None:
        """SoldOut if a product is sold out, unless this is a retry of an order accepted before: its replay."""
        sold_out = sorted(pid for pid, _ in wanted if pid in catalog and catalog[pid].sold_out)
        if not sold_out:
            return None
        taken = self.orders.claimed(claim.key, now) if claim is not None else None
        if taken is not None:
            return self._replay(taken, claim.fingerprint if claim else "")
        # Nothing available and nothing reserved that could come back: the saga could only fail it.
        raise SoldOut(f"sold out: {', '.join(sold_out)}")

    def _replay(self, taken: KeyAlreadyClaimed, fingerprint: str) -> Placed:
        if taken.fingerprint != fingerprint:
            raise IdempotencyKeyReused(
                "this Idempotency-Key was used with a different request body",
                [{"field": "Idempotency-Key", "message": "already used with a different body"}],
            )
        original = self.get_any(taken.order_id)
        # A replay is how a client repairs a failed enqueue: re-send (the worker is idempotent).
        enqueued = self._enqueue(original) if original.status is OrderStatus.PENDING else False
        return Placed(original, created=False, enqueued=enqueued)

    def _enqueue(self, order: Order) -> bool:
        try:
            self.queue.enqueue(order.id)
        except Exception:  # noqa: BLE001 - the order is stored; the cleanup re-enqueues it
            return False
        return True

    def get_any(self, order_id: str) -> Order:
        """The order, or NotFound."""
        order = self.orders.get(order_id)
        if order is None:
            raise NotFound(f"order {order_id} not found")
        return order

    def get(self, order_id: str, caller: Principal) -> Order:
        """The order if the caller owns it or is an admin; others get NotFound or Forbidden."""
        order = self.get_any(order_id)
        caller.require_owner_or_admin(order.user_id)
        return order

    def list_for_user(self, user_id: str, caller: Principal, limit: int, cursor: str | None) -> Page[Order, str]:
        """A user's orders, newest first."""
        caller.require_owner_or_admin(user_id)
        if limit < 1:
            raise ValidationError("limit must be positive", [{"field": "limit", "message": "must be >= 1"}])
        # The scope binds a cursor to one user's listing.
        codec = CursorCodec(self.cursor_key, f"orders:{user_id}")
        page = self.orders.page_for_user(user_id, limit, codec.decode(cursor))
        return Page(page.items, codec.encode(page.next_key))

    def cancel(self, order_id: str, caller: Principal) -> Order:
        """Cancel before payment; IllegalTransition (409) once paid or final."""
        order = self.get(order_id, caller)
        return self.orders.transition(order.id, OrderStatus.CANCELLED, self.clock(), reason="CancelledByUser")
