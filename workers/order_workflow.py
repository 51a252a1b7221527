"""Task handlers of the order workflow (infra/statemachine/order_workflow.asl.json), one per Task state.

Each parses the order id, calls one OrderWorkflow method and replies `{"orderId": ...}`. An
exception's class name is the Step Functions error name the definition's Retry and Catch match.
"""

from __future__ import annotations

import app.coldstart  # noqa: F401  # isort: skip - first: the GC pauses for the init (app/coldstart.py)
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from app.domain.orders import Order, OrderStatus
from app.observability import emit_metrics, entrypoint
from workers.common import order_id_of, services, task


def _reply(order: Order) -> dict[str, Any]:
    return {"orderId": order.id, "status": order.status.value}


def _duration(order: Order) -> tuple[float, MetricUnit]:
    # From acceptance (POST /orders) to the final state.
    return (order.updated_at - order.created_at).total_seconds() * 1000, MetricUnit.Milliseconds


@entrypoint
@task
def validate_order(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """ValidateOrder: the user exists and the products and prices are current."""
    return _reply(services().order_workflow.validate(order_id_of(event)))


@entrypoint
@task
def check_inventory(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """CheckInventory: reserve every line in one transaction."""
    return _reply(services().order_workflow.reserve(order_id_of(event)))


@entrypoint
@task
def process_payment(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """ProcessPayment: charge the order's total once."""
    return _reply(services().order_workflow.charge(order_id_of(event)))


@entrypoint
@task
def update_inventory(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """UpdateInventory: reserved -> sold and CONFIRMED together."""
    order = services().order_workflow.commit(order_id_of(event))
    emit_metrics({"OrdersConfirmed": (1, MetricUnit.Count), "WorkflowDuration": _duration(order)})
    return _reply(order)


@entrypoint
@task
def send_notification(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """SendNotification: publish OrderProcessed."""
    return _reply(services().order_workflow.notify(order_id_of(event)))


@entrypoint
@task
def compensate_payment(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """CompensatePayment: refund the charge, if any, once."""
    order_id = order_id_of(event)
    return {"orderId": order_id, "refunded": services().order_workflow.refund(order_id)}


@entrypoint
@task
def release_inventory(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """ReleaseInventory: give the reservation back, if any, once."""
    order_id = order_id_of(event)
    return {"orderId": order_id, "released": services().order_workflow.release(order_id)}


@entrypoint
@task
def mark_order_failed(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """MarkOrderFailed: FAILED with the caught error's name as reason; publish OrderFailed."""
    error = event.get("error")
    reason = str((error.get("Error") if isinstance(error, dict) else None) or "Unknown")[:100]
    order = services().order_workflow.fail(order_id_of(event), reason)
    if order.status is OrderStatus.FAILED:  # not when the user's cancel won the race
        metrics = {"OrdersFailed": (1.0, MetricUnit.Count), "WorkflowDuration": _duration(order)}
        emit_metrics(metrics, dimensions={"reason": reason})
    return {**_reply(order), "reason": order.reason}
