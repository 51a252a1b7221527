"""Fault injection: AWS unreachable, throttled, and a worker killed midway through a batch.

Each test asserts on the final state in the local cloud: what is answered, what stays queued,
and that every order is processed exactly once.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse, HTTPHeaders
from fastapi.testclient import TestClient

import workers.process_order
from app.bootstrap import Container, get_container
from app.domain.orders import OrderStatus
from app.settings import get_settings
from infra.local.cloud import free_port
from infra.local.env import function_env
from infra.local.paths import TEMPLATE_PATH
from infra.local.provision import client as aws
from infra.local.runtime.functions import discover, spec_of
from infra.local.runtime.sources.base import Services
from infra.local.runtime.sources.sqs import SqsSource
from infra.local.runtime.sources.stepfunctions import state_machine_sources
from infra.local.runtime.worker import Invocation
from infra.local.template import Stack
from tests.support.order_helpers import add_users, as_function
from tests.support.tokens import SECRET, Signer

WORKER = "ProcessOrderFunction"
REAL_DISPATCH = workers.process_order.dispatch
receipts: list[str] = []  # receipt handles of the messages delivered to the in-process worker


class Crash(BaseException):
    """The process dies: not an Exception, so no handler in the function can catch it."""


class ThrottleHook:
    """A botocore `before-send` hook: the first `times` attempts of an operation get a throttling error."""

    def __init__(self, code: str, times: int) -> None:
        self.code, self.times, self.attempts = code, times, 0

    def __call__(self, request: Any, **_: Any) -> AWSResponse | None:
        self.attempts += 1
        if self.attempts > self.times:
            return None  # let the real request through
        body = json.dumps({"__type": self.code, "message": "Rate exceeded"}).encode()
        headers = HTTPHeaders()
        headers["Content-Type"] = "application/x-amz-json-1.0"
        return AWSResponse(request.url, 400, headers, _Raw(body))


class _Raw:
    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.body


def worker(stack: Stack, mp: pytest.MonkeyPatch, endpoint: str | None = None, attempts: int = 1) -> Container:
    """ProcessOrder's services (its identity, `attempts` per call), optionally pointed at `endpoint`."""
    for key, value in {**function_env(stack, WORKER), "AWS_MAX_ATTEMPTS": str(attempts)}.items():
        mp.setenv(key, value)
    if endpoint:
        mp.setenv("AWS_ENDPOINT_URL", endpoint)
    get_settings.cache_clear()
    services = Container(get_settings())
    made = {name: services.client(name) for name in ("dynamodb", "stepfunctions", "sqs")}  # sqs: the watch
    services.client = made.__getitem__  # type: ignore[method-assign,assignment]
    services.__dict__["dynamodb"] = made["dynamodb"]
    mp.setattr(workers.process_order, "services", lambda: services)
    return services


def in_process(stack: Stack, crash_after: int | None = None) -> tuple[SqsSource, list[str]]:
    """ProcessOrder's SQS mapping, invoking the handler in this process; it may crash after N dispatches."""
    dispatched: list[str] = []
    receipts.clear()

    def dispatch(payload: dict[str, Any], context: Any) -> str:
        if crash_after is not None and len(dispatched) == crash_after:
            raise Crash
        outcome = str(REAL_DISPATCH(payload, context))
        dispatched.append(payload["orderId"])
        return outcome

    def invoke(logical_id: str, event: Any) -> Invocation:
        receipts.extend(r["receiptHandle"] for r in event["Records"])
        try:
            return Invocation(request_id="local", result=workers.process_order.handler(event, None))
        except Crash:
            error = {"errorType": "Runtime.ExitError", "errorMessage": "process exited", "stackTrace": []}
        except Exception as exc:  # the handler raised: Lambda reports a function error
            error = {"errorType": type(exc).__name__, "errorMessage": str(exc), "stackTrace": []}
        return Invocation(request_id="local", error=error)

    spec = spec_of(stack, WORKER)
    name, event = next((n, e) for n, e in spec.events.items() if e.get("Type") == "SQS")
    source = SqsSource(Services(stack, invoke, lambda _: None, poll_seconds=1), spec, name, event["Properties"])
    workers.process_order.dispatch = dispatch
    return source, dispatched


@pytest.fixture(autouse=True)
def _restore_dispatch() -> Iterator[None]:
    yield
    workers.process_order.dispatch = REAL_DISPATCH


def poll(source: SqsSource) -> None:
    """One receive and delivery of the mapping (without waiting out its batching window)."""
    batch = aws(source.services.stack, "sqs").receive_message(QueueUrl=source.queue_url, MaxNumberOfMessages=10)
    source.deliver(batch.get("Messages", []))


def create_workflow(stack: Stack) -> None:
    """The order state machine, as the local runtime creates it (its task queues stay unpolled)."""
    services = Services(stack, lambda *_: Invocation(request_id="none"), lambda _: None)
    for source in state_machine_sources(services, discover(stack), TEMPLATE_PATH.parent):
        source.setup()


def place_orders(stack: Stack, mp: pytest.MonkeyPatch, count: int) -> list[str]:
    """`count` orders accepted by the API (stored PENDING and enqueued on the real order queue)."""
    create_workflow(stack)
    api = as_function(stack, mp, "ApiFunction")
    add_users(api, "ada")
    api.catalog.put("mug", "Mug", 1000, "USD")
    api.catalog.restock("mug", 100)
    return [api.orders.place("ada", [("mug", 1)]).order.id for _ in range(count)]


def make_visible_again(stack: Stack) -> None:
    """What the visibility timeout does to the delivered messages that were not deleted, without the wait."""
    sqs, url = aws(stack, "sqs"), stack.ref("OrderQueue")
    for receipt in receipts:
        sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=receipt, VisibilityTimeout=0)


def queue_depth(stack: Stack) -> int:
    names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    attrs = aws(stack, "sqs").get_queue_attributes(QueueUrl=stack.ref("OrderQueue"), AttributeNames=names)
    return sum(int(attrs["Attributes"][n]) for n in names)


def executions(stack: Stack) -> list[str]:
    sfn = aws(stack, "stepfunctions")
    return sorted(e["name"] for e in sfn.list_executions(stateMachineArn=stack.ref("OrderWorkflow"))["executions"])


def statuses(stack: Stack, mp: pytest.MonkeyPatch, ids: list[str]) -> set[OrderStatus]:
    repo = worker(stack, mp).order_repo
    return {order.status for order in (repo.get(i) for i in ids) if order is not None}


# --- AWS unreachable ---------------------------------------------------------------------------


@pytest.fixture
def unreachable_api(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    from app.api.main import create_app

    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    monkeypatch.delenv("JWT_SECRET_ID")
    monkeypatch.setenv("JWT_SECRET", SECRET)  # the request, not the token check, meets the dead endpoint
    get_settings.cache_clear()
    get_container.cache_clear()
    with TestClient(create_app(), raise_server_exceptions=False) as client:
        yield client


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/users/ada", None),
        ("GET", "/products", None),
        ("POST", "/orders", {"items": [{"productId": "mug", "quantity": 1}]}),
        ("GET", "/orders/o-1", None),
        ("PUT", "/products/mug", {"name": "Mug", "price": 100}),
    ],
)
def test_unreachable_aws_gives_503_problem_with_retry_after(
    unreachable_api: TestClient, method: str, path: str, body: Any
) -> None:
    headers = Signer(SECRET).admin() if method == "PUT" else Signer(SECRET).user("ada")
    response = unreachable_api.request(method, path, json=body, headers=headers)
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert int(response.headers["retry-after"]) > 0
    assert response.json()["status"] == 503


def test_unreachable_secret_store_gives_503_not_401(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    from app.api.main import create_app

    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    get_settings.cache_clear()
    get_container.cache_clear()
    with TestClient(create_app(), raise_server_exceptions=False) as client:
        response = client.get("/users/ada", headers=Signer(SECRET).user("ada"))
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["retry-after"]


def test_queue_worker_with_aws_unreachable_fails_every_record_and_loses_none(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = place_orders(stack, monkeypatch, 3)
    worker(stack, monkeypatch, endpoint=f"http://127.0.0.1:{free_port()}")
    source, dispatched = in_process(stack)
    batch = aws(stack, "sqs").receive_message(QueueUrl=source.queue_url, MaxNumberOfMessages=10)["Messages"]
    assert len(batch) == 3
    outcome = source.services.invoke(WORKER, _event(source, batch))
    # Every record is reported failed (not a function error); none succeeded, none is deleted.
    assert source.succeeded(outcome, [m["MessageId"] for m in batch]) == set()
    source.deliver(batch)  # the mapping's own deletion rule, on a second failing delivery
    assert dispatched == []
    assert queue_depth(stack) == 3

    # The endpoint is back: redelivery processes every order, none was lost.
    make_visible_again(stack)
    worker(stack, monkeypatch)
    poll(source)
    assert sorted(dispatched) == sorted(ids)
    assert queue_depth(stack) == 0
    assert executions(stack) == sorted(ids)
    assert statuses(stack, monkeypatch, ids) == {OrderStatus.PENDING}  # dispatched; the reservation moves them


def _event(source: SqsSource, batch: list[dict[str, Any]]) -> dict[str, Any]:
    from infra.local.runtime.events import sqs_event

    return sqs_event(batch, source.queue_arn, source.services.stack.region)


# --- Throttling ----------------------------------------------------------------------------------


@pytest.mark.parametrize("code", ["ProvisionedThroughputExceededException", "ThrottlingException"])
def test_throttled_dynamodb_write_is_retried_and_the_request_succeeds(
    client: TestClient, auth: Signer, code: str
) -> None:
    hook = ThrottleHook(code, times=2)  # standard retries: 3 attempts
    get_container().dynamodb.meta.events.register("before-send.dynamodb.TransactWriteItems", hook)
    created = client.post("/users", json={"name": "Ada", "email": "ada@example.com"}, headers=auth.user("ada"))
    assert created.status_code == 201, created.text
    assert hook.attempts == 3
    assert client.get("/users/ada", headers=auth.user("ada")).json()["email"] == "ada@example.com"


def test_throttling_beyond_the_retries_is_503_with_retry_after(client: TestClient, auth: Signer) -> None:
    hook = ThrottleHook("ProvisionedThroughputExceededException", times=10)
    get_container().dynamodb.meta.events.register("before-send.dynamodb.GetItem", hook)
    response = client.get("/users/ada", headers=auth.user("ada"))
    assert response.status_code == 503, response.text
    assert response.headers["retry-after"]
    assert hook.attempts == get_settings().aws_max_attempts


def test_throttled_workflow_start_is_retried_and_the_record_succeeds(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    [order_id] = place_orders(stack, monkeypatch, 1)
    services = worker(stack, monkeypatch, attempts=3)
    hook = ThrottleHook("ThrottlingException", times=2)
    services.client("stepfunctions").meta.events.register("before-send.states.StartExecution", hook)
    source, dispatched = in_process(stack)
    poll(source)
    assert hook.attempts == 3
    assert dispatched == [order_id]
    assert queue_depth(stack) == 0
    assert executions(stack) == [order_id]


# --- A worker crash midway through a batch -------------------------------------------------------


def test_worker_crash_midway_redelivers_the_batch_and_each_order_is_processed_once(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = place_orders(stack, monkeypatch, 4)
    worker(stack, monkeypatch)
    source, dispatched = in_process(stack, crash_after=2)
    poll(source)  # two records dispatched, then the process dies
    assert len(dispatched) == 2
    assert queue_depth(stack) == 4  # a crashed invocation deletes nothing

    make_visible_again(stack)
    source, redelivered = in_process(stack)
    poll(source)
    assert sorted(redelivered) == sorted(ids)  # the whole batch came back, the first two included
    assert queue_depth(stack) == 0
    assert executions(stack) == sorted(ids)  # one workflow per order, not six
    assert statuses(stack, monkeypatch, ids) == {OrderStatus.PENDING}  # dispatched; the reservation moves them


class SnsOutage:
    """A botocore `before-send` hook: SNS (a query/XML protocol) answers 500 InternalError while down."""

    def __init__(self) -> None:
        self.down, self.attempts = True, 0

    def __call__(self, request: Any, **_: Any) -> AWSResponse | None:
        if not self.down:
            return None
        self.attempts += 1
        body = (
            b'<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><Error><Type>Receiver</Type>'
            b"<Code>InternalError</Code><Message>SNS is down</Message></Error><RequestId>r</RequestId></ErrorResponse>"
        )
        headers = HTTPHeaders()
        headers["Content-Type"] = "text/xml"
        return AWSResponse(request.url, 500, headers, _Raw(body))


def test_sns_failure_in_the_events_consumer_is_retried_without_double_counting(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SNS down for a whole invocation: the consumer raises (Lambda retries it), the retry counts nothing twice."""
    import workers.common
    import workers.order_events
    from infra.local.payloads import LambdaContext, eventbridge_event
    from tests.support.event_helpers import as_worker, drain, subscribe_queue

    notifications = subscribe_queue(stack)
    as_worker(stack, monkeypatch, "OrderEventsFunction")
    detail = {
        "version": 1,
        "orderId": "o-sns",
        "userId": "ada",
        "status": "CONFIRMED",
        "items": [{"productId": "mug", "quantity": 3, "unitPrice": 700}],
        "total": 2100,
        "currency": "USD",
        "reason": None,
    }
    event = eventbridge_event("OrderProcessed", detail)
    outage = SnsOutage()
    workers.common.services().client("sns").meta.events.register("before-send.sns.Publish", outage)

    with pytest.raises(Exception, match="InternalError"):
        workers.order_events.order_processed(event, LambdaContext())
    assert outage.attempts == get_settings().aws_max_attempts  # the SDK retried before giving up

    outage.down = False  # SNS is back: the asynchronous invocation is retried with the same event
    retried = workers.order_events.order_processed(event, LambdaContext())

    assert retried["counted"] is False  # the first attempt already counted it
    items = aws(stack, "dynamodb").scan(TableName=stack.name("AnalyticsTable"))["Items"]
    mugs = [i for i in items if i["sk"]["S"] == "UNITS#mug"]
    assert [(i["units"], i["orders"]) for i in mugs] == [({"N": "3"}, {"N": "1"})]
    (message,) = drain(stack, notifications, 1)
    assert message["Subject"] == "Order Confirmation"
    assert drain(stack, notifications, 1, timeout=1) == []
