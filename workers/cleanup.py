"""Cleanup: the daily safety net (schedule `rate(1 day)`; `make invoke FN=CleanupFunction` runs it now).

Re-enqueues lost orders, expires stuck ones (releasing their stock), and purges expired
Idempotency-Key claims. It stops before the Lambda timeout; the next run continues.
"""

from __future__ import annotations

import app.coldstart  # noqa: F401  # isort: skip - first: the GC pauses for the init (app/coldstart.py)
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from app.observability import emit_metrics, entrypoint, logger
from workers.common import services

_NO_CONTEXT_MS = 60_000  # invoked without a Lambda context (a script): one minute


@entrypoint
def handler(event: Any, context: Any) -> dict[str, Any]:
    """Run one cleanup pass; reply (and emit as metrics) its counts."""
    remaining = getattr(context, "get_remaining_time_in_millis", None) or (lambda: _NO_CONTEXT_MS)
    report = services().cleanup().run(remaining)
    counts: dict[str, Any] = report.as_dict()
    counts["importsStalled"] = services().import_sweeper.sweep()
    names = {"requeued": "OrdersRequeued", "expired": "OrdersExpired", "released": "ReservationsReleased"}
    names |= {"importsStalled": "ImportsStalled"}
    names |= {"refunded": "PaymentsRefunded", "purged": "IdempotencyRecordsPurged", "errors": "CleanupErrors"}
    emit_metrics({metric: (float(counts[key]), MetricUnit.Count) for key, metric in names.items()})
    log = logger.info if report.complete and not report.errors else logger.warning
    log("cleanup finished", extra={**counts, "failures": report.errors[:20]})
    return counts
