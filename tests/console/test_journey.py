"""An order's journey from what the recorder kept: found by order id or by the request's correlation id."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from infra.local.console.journey import journey
from infra.local.console.recorder import BusEvent, Recorder, RuleMatch
from infra.local.runtime.worker import Invocation

ORDER = "o-123"
EXECUTION = f"arn:aws:states:us-east-1:123456789012:execution:saga:{ORDER}"


class FakeResources:
    """One finished execution of the order, whose CheckInventory failed and was caught."""

    def executions(self, status: str | None = None) -> list[dict[str, Any]]:
        return [{"name": ORDER, "executionArn": EXECUTION}, {"name": "o-999", "executionArn": "other"}]

    def execution(self, arn: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        at = datetime(2026, 12, 1, tzinfo=UTC)
        described = {"name": ORDER, "status": "FAILED", "startDate": at, "stopDate": at, "error": "OrderFailed"}
        history = [
            {"type": "TaskStateEntered", "timestamp": at, "stateEnteredEventDetails": {"name": "CheckInventory"}},
            {"type": "TaskScheduled", "timestamp": at},
            {"type": "TaskFailed", "timestamp": at, "taskFailedEventDetails": {"error": "InsufficientInventory"}},
            {"type": "TaskStateExited", "timestamp": at, "stateExitedEventDetails": {"name": "CheckInventory"}},
        ]
        return described, history


def recorded() -> Recorder:
    recorder = Recorder()
    request: dict[str, object] = {"message": "request", "method": "POST", "path": "/orders", "status": 202, "ms": 5}
    request |= {"correlation_id": "c-7", "location": f"/orders/{ORDER}"}
    recorder.line("[ApiFunction] " + json.dumps(request, separators=(",", ":")))  # as the app writes it
    record: dict[str, object] = {"eventSource": "aws:sqs", "body": json.dumps({"orderId": ORDER}), "messageId": "m-1"}
    record |= {"eventSourceARN": "arn:aws:sqs:us-east-1:1:orders", "attributes": {"SentTimestamp": "1000"}}
    delivery = {"kind": "source", "source": "OrderQueue"}
    recorder.invoked("ProcessOrderFunction", "r-1", {"Records": [record]}, Invocation("r-1", {}), 2.0, delivery)
    task = {"kind": "task", "execution": EXECUTION, "state": "CheckInventory"}
    failure = {"errorType": "InsufficientInventory", "errorMessage": "no stock"}
    recorder.invoked("CheckInventoryFunction", "r-2", {"orderId": ORDER}, Invocation("r-2", error=failure), 3.0, task)
    matched = (RuleMatch("order-failed", True, ("arn:aws:sqs:us-east-1:1:q",)),)
    recorder.bus_event(BusEvent(4.0, "e-1", "events", "orders", "OrderFailed", json.dumps({"orderId": ORDER}), matched))
    recorder.notification({"Subject": "Order failed", "Message": f"Your order {ORDER} failed"})
    recorder.invoked("OrderFailedFunction", "r-3", {"detail": {"orderId": "o-other"}}, Invocation("r-3", {}), 5.0, {})
    return recorder


def test_the_journey_by_correlation_id_finds_the_order_and_orders_the_steps_in_time() -> None:
    found = journey("c-7", recorded(), FakeResources(), {"order-failed": "OrderFailedFunction"})  # type: ignore[arg-type]

    assert found.order_id == ORDER
    assert found.correlation_ids == ["c-7"]
    kinds = [step.kind for step in found.steps]
    assert kinds[:2] == ["enqueue", "delivery"]  # SentTimestamp 1 s, then the delivery at 2 s
    assert {"request", "execution", "state", "event", "notification"} <= set(kinds)
    state = next(step for step in found.steps if step.kind == "state")
    assert (state.title, state.status) == ("CheckInventory: failed, caught", "caught")
    assert "CheckInventoryFunction" in state.detail  # the task's invocation, shown under its state
    assert "InsufficientInventory" in state.detail
    assert not any(step.kind == "task" for step in found.steps)  # not repeated as a step of its own
    event = next(step for step in found.steps if step.kind == "event")
    assert "order-failed → OrderFailedFunction" in event.detail
    assert all("OrderFailedFunction invoked" not in step.title for step in found.steps)  # another order's
    times = [step.at for step in found.steps]
    assert times == sorted(times)
