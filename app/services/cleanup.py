"""The daily cleanup: every accepted order reaches a final state, and expired claims are removed.

Each step is idempotent (conditional writes, idempotent releases and refunds), so a run that stops
early (before the Lambda timeout) leaves nothing half done that the next run cannot finish.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from app.domain.orders import FINAL, Order
from app.services.order_workflow import publish_outbox
from app.services.ports.common import Clock, PageKey
from app.services.ports.events import IdempotencyRecords, StaleOrders, WorkflowExecutions
from app.services.ports.orders import EventPublisher, Inventory, OrderQueue, OrderRepository, PaymentGateway
from app.services.reconcile import WORKFLOW_ENDED, OrderReconciler, Settled

EXPIRED = "Expired"


@dataclass(frozen=True)
class CleanupPolicy:
    """Ages that make an order stale, the page size, and the time kept in reserve before the timeout."""

    requeue_after: timedelta = timedelta(minutes=15)
    expire_after: timedelta = timedelta(hours=24)
    page_size: int = 100
    reserve_ms: int = 5_000


@dataclass
class CleanupReport:
    """Counts of one run; `complete` is False when it stopped early (the next run continues)."""

    scanned: int = 0
    requeued: int = 0
    expired: int = 0
    released: int = 0
    refunded: int = 0
    reconciled: int = 0
    published: int = 0
    purged: int = 0
    pages: int = 0
    complete: bool = True
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, int | bool]:
        """The counts, for the function's reply and its metrics."""
        return {
            "scanned": self.scanned,
            "requeued": self.requeued,
            "expired": self.expired,
            "released": self.released,
            "refunded": self.refunded,
            "reconciled": self.reconciled,
            "published": self.published,
            "purged": self.purged,
            "pages": self.pages,
            "errors": len(self.errors),
            "complete": self.complete,
        }


@dataclass(frozen=True)
class CleanupPorts:
    """Everything the cleanup reads and writes."""

    stale: StaleOrders
    orders: OrderRepository
    queue: OrderQueue
    executions: WorkflowExecutions
    inventory: Inventory
    payments: PaymentGateway
    events: EventPublisher
    idempotency: IdempotencyRecords


class CleanupService:
    """Re-enqueues lost orders, expires stuck ones, purges expired Idempotency-Key claims."""

    def __init__(self, ports: CleanupPorts, clock: Clock, policy: CleanupPolicy) -> None:
        self.ports = ports
        self.clock = clock
        self.policy = policy
        self.reconciler = OrderReconciler(ports.orders, ports.inventory, ports.payments, ports.events, clock)

    def run(self, remaining_ms: Callable[[], int]) -> CleanupReport:
        """One run over every page, stopping while `remaining_ms()` still leaves the reserve."""
        report = CleanupReport()
        now = self.clock()
        start: PageKey | None = None
        while remaining_ms() > self.policy.reserve_ms:
            page = self.ports.stale.page_unfinished(now - self.policy.requeue_after, self.policy.page_size, start)
            report.pages += 1
            for order in page.items:
                report.scanned += 1
                self._repair(order, now, report)
            start = page.next_key
            if start is None:
                break
        else:
            report.complete = False
            return report
        claims: PageKey | None = None
        while remaining_ms() > self.policy.reserve_ms:
            purged, claims = self.ports.idempotency.purge_expired(now, self.policy.page_size, claims)
            report.purged += purged
            if claims is None:
                return report
        report.complete = False
        return report

    def _repair(self, order: Order, now: datetime, report: CleanupReport) -> None:
        try:
            if order.status in FINAL:
                # Final, with its outcome event still in the outbox: the publisher died before clearing it.
                report.published += publish_outbox(order, self.ports.orders, self.ports.events)
                return
            status = self.ports.executions.status(order.id)
            if status == "RUNNING":
                return  # the workflow is on it
            if status in WORKFLOW_ENDED:
                # Missed by the reconciler (its event lost or dead-lettered): settle it now, not in 24 hours.
                self._count(self.reconciler.settle(order, WORKFLOW_ENDED[status]), report)
                report.reconciled += 1
            elif now - order.created_at >= self.policy.expire_after:
                settled = self.reconciler.settle(order, EXPIRED)
                self._count(settled, report)
                report.expired += settled.failed
            elif status is None:
                # A lost enqueue (or a start that failed after PROCESSING): the dispatcher picks it up again.
                self.ports.queue.enqueue(order.id)
                report.requeued += 1
        except Exception as exc:  # noqa: BLE001 - one bad order must not stop the run; the next run retries it
            report.errors.append(f"{order.id}: {type(exc).__name__}: {exc}")

    @staticmethod
    def _count(settled: Settled, report: CleanupReport) -> None:
        report.released += settled.released
        report.refunded += settled.refunded
