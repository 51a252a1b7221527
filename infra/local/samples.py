"""A realistic default event for every function of the template (`make invoke FN=<LogicalId>`).

Built with the payload builders the tests use, and named after the local stack's own resources,
so each sample is the event the function gets in AWS. `make event FN=<LogicalId>` prints one to
edit and pass back with `EVENT=`.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from infra.local import payloads
from infra.local.template import Stack

SAMPLE_ORDER = "sample-order-0001"
SAMPLE_USER = "local-user"
_LINE = {"productId": "coffee-mug", "quantity": 2, "unitPrice": 1250}
_TASKS = (
    "ValidateOrderFunction",
    "CheckInventoryFunction",
    "ProcessPaymentFunction",
    "UpdateInventoryFunction",
    "SendNotificationFunction",
    "CompensatePaymentFunction",
    "ReleaseInventoryFunction",
    "MarkOrderFailedFunction",
)


def _outcome(status: str, reason: str | None) -> dict[str, Any]:
    detail: dict[str, Any] = {
        "orderId": SAMPLE_ORDER,
        "userId": SAMPLE_USER,
        "status": status,
        "items": [_LINE],
        "total": 2500,
        "currency": "USD",
    }
    return {**detail, "reason": reason} if reason is not None else detail


def _api(stack: Stack) -> dict[str, Any]:
    return payloads.http_api_v2("GET", "/health")


def _authorizer(stack: Stack) -> dict[str, Any]:
    # Not signed with the dev secret: the authorizer answers Unauthorized, as it does for any bad token.
    return payloads.http_api_request_authorizer({"authorization": "Bearer not-a-valid-token"})


def _process_order(stack: Stack) -> dict[str, Any]:
    return payloads.sqs_event({"orderId": SAMPLE_ORDER}, queue=stack.name("OrderQueue"))


def _reconcile(stack: Stack) -> dict[str, Any]:
    machine = stack.ref("OrderWorkflow")
    execution = f"{machine.replace(':stateMachine:', ':execution:')}:{SAMPLE_ORDER}"
    now = int(datetime.now(UTC).timestamp() * 1000)
    detail = {
        "executionArn": execution,
        "stateMachineArn": machine,
        "name": SAMPLE_ORDER,
        "status": "FAILED",
        "startDate": now - 4000,
        "stopDate": now,
        "input": json.dumps({"orderId": SAMPLE_ORDER}),
        "output": None,
        "inputDetails": {"included": True},
        "outputDetails": None,
        "error": "States.Timeout",
        "cause": "the execution timed out",
    }
    return {
        **payloads.eventbridge_event("Step Functions Execution Status Change", detail, source="aws.states"),
        "resources": [execution],
    }


def _order_event(detail_type: str, status: str, reason: str | None) -> Callable[[Stack], dict[str, Any]]:
    def build(stack: Stack) -> dict[str, Any]:
        return payloads.eventbridge_event(detail_type, _outcome(status, reason), bus=stack.name("OrderEventBus"))

    return build


def _cleanup(stack: Stack) -> dict[str, Any]:
    return payloads.eventbridge_event("Scheduled Event", {}, source="aws.events", bus="default")


def _catalog_import(stack: Stack) -> dict[str, Any]:
    key = "imports/00000000-0000-4000-8000-000000000001.csv"
    return payloads.s3_object_created(stack.name("ImportsBucket"), key, etag="d41d8cd98f00b204e9800998ecf8427e", size=0)


SAMPLE_SCAN = 100


def newest_order(stack: Stack) -> str:
    """The newest order of the running stack, so that a workflow task's sample works on real data.

    Among the first SAMPLE_SCAN items scanned only: a sample need not be the newest of a large table, and
    `make invoke` must not wait for a scan of it (1.9 s over 3,000 orders after a flash sale, with 1 MB
    pages). SAMPLE_ORDER where no local cloud answers or no order exists yet (the invocation then says what to do).
    """
    host, _, port = stack.endpoint.removeprefix("http://").partition(":")
    with socket.socket() as sock:
        sock.settimeout(0.5)
        if sock.connect_ex((host, int(port or 80))) != 0:
            return SAMPLE_ORDER
    from infra.local.provision import client

    table = stack.name("OrdersTable")
    try:
        items = client(stack, "dynamodb").scan(
            TableName=table, ProjectionExpression="orderId, createdAt", Limit=SAMPLE_SCAN
        )["Items"]
    except Exception:  # noqa: BLE001 - a sample is a convenience: any failure falls back to the placeholder
        return SAMPLE_ORDER
    newest = max(items, key=lambda item: item.get("createdAt", {}).get("S", ""), default=None)
    return str(newest["orderId"]["S"]) if newest else SAMPLE_ORDER


def _task(stack: Stack) -> dict[str, Any]:
    return payloads.sfn_task_input(newest_order(stack))


def _compensation(stack: Stack) -> dict[str, Any]:
    return payloads.sfn_task_input(newest_order(stack), "PaymentFailed", "the card was declined")


BUILDERS: dict[str, Callable[[Stack], dict[str, Any]]] = {
    "ApiFunction": _api,
    "AuthorizerFunction": _authorizer,
    "ProcessOrderFunction": _process_order,
    "ReconcileOrderFunction": _reconcile,
    "OrderEventsFunction": _order_event("OrderProcessed", "CONFIRMED", None),
    "OrderFailedFunction": _order_event("OrderFailed", "FAILED", "InsufficientInventory"),
    "CleanupFunction": _cleanup,
    "CatalogImportFunction": _catalog_import,
    **{task: _compensation if task in _TASKS[5:] else _task for task in _TASKS},
}


def sample_event(stack: Stack, logical_id: str) -> dict[str, Any]:
    """The default event of a function; KeyError (naming the known ones) for any other id."""
    builder = BUILDERS.get(logical_id)
    if builder is None:
        raise KeyError(logical_id)
    return builder(stack)
