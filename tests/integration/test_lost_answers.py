"""A lost answer: the write reaches the local cloud and is applied, but its answer never arrives, so botocore
times out and sends the same request again. Every conditional write and transaction must then end as if
the first answer had arrived. A fake that only fails a call never shows this case.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError, ReadTimeoutError
from botocore.httpsession import URLLib3Session
from fastapi.testclient import TestClient

from app.bootstrap import Container, get_container
from app.domain.errors import ServiceUnavailable
from app.domain.money import Money
from app.domain.orders import OrderStatus
from app.domain.payments import FLAKY_TOKEN
from app.services.ports.events import Sale
from infra.local.provision import client as aws
from infra.local.template import Stack
from tests.support.order_helpers import add_users, as_function
from tests.support.tokens import Signer


class LostAnswer:
    """A botocore `before-send` hook: the first `times` attempts are applied by AWS, their answers dropped."""

    def __init__(self, times: int = 1) -> None:
        self.times, self.sent = times, 0
        self.http = URLLib3Session()

    def __call__(self, request: Any, **_: Any) -> None:
        self.sent += 1
        if self.sent > self.times:
            return  # this attempt's answer arrives
        self.http.send(request)  # applied...
        raise ReadTimeoutError(endpoint_url=request.url)  # ...and the answer never comes


def lose(container: Container, operation: str, times: int = 1) -> LostAnswer:
    """Drop the answers to the first `times` attempts of a DynamoDB operation made through `container`."""
    hook = LostAnswer(times)
    container.dynamodb.meta.events.register(f"before-send.dynamodb.{operation}", hook)
    return hook


@pytest.fixture
def api(client: TestClient) -> Container:
    """The API's container (the one `client` answers with), with ada's profile and stock of a mug."""
    container = get_container()
    add_users(container, "ada")
    container.catalog.put("mug", "Mug", 1250, "USD")
    container.catalog.restock("mug", 10)
    return container


def order_body() -> dict[str, Any]:
    return {"items": [{"productId": "mug", "quantity": 1}], "paymentToken": "tok_visa"}


def orders_of(stack: Stack, user: str) -> list[dict[str, Any]]:
    table = stack.ref("OrdersTable")
    items = aws(stack, "dynamodb").scan(TableName=table)["Items"]
    return [i for i in items if i.get("userId", {}).get("S") == user]


def test_an_unkeyed_order_whose_put_answer_is_lost_is_accepted_once(
    stack: Stack, client: TestClient, auth: Signer, api: Container
) -> None:
    hook = lose(api, "PutItem")
    placed = client.post("/orders", json=order_body(), headers=auth.user("ada"))
    assert placed.status_code == 202, placed.text  # was a 500, with the order stored and never queued
    assert hook.sent == 2
    assert len(orders_of(stack, "ada")) == 1
    order = client.get(placed.headers["location"], headers=auth.user("ada")).json()
    assert order["status"] == OrderStatus.PENDING.value
    queue = stack.ref("OrderQueue")
    depth = aws(stack, "sqs").get_queue_attributes(QueueUrl=queue, AttributeNames=["ApproximateNumberOfMessages"])
    assert int(depth["Attributes"]["ApproximateNumberOfMessages"]) == 1  # queued: it will be processed


def test_a_keyed_order_whose_transaction_answer_is_lost_is_one_order_and_replays(
    stack: Stack, client: TestClient, auth: Signer, api: Container
) -> None:
    hook = lose(api, "TransactWriteItems")
    headers = {**auth.user("ada"), "Idempotency-Key": "lost-1"}
    placed = client.post("/orders", json=order_body(), headers=headers)
    assert placed.status_code == 202, placed.text
    assert hook.sent == 2
    again = client.post("/orders", json=order_body(), headers=headers)
    assert again.status_code == 202
    assert again.json()["id"] == placed.json()["id"]
    assert len(orders_of(stack, "ada")) == 1


def test_a_user_whose_transaction_answer_is_lost_is_created_not_a_conflict(
    client: TestClient, auth: Signer, api: Container
) -> None:
    hook = lose(api, "TransactWriteItems")
    created = client.post("/users", json={"name": "Bo", "email": "bo@example.com"}, headers=auth.user("bo"))
    assert created.status_code == 201, created.text  # was a 409: the retry met its own email claim
    assert hook.sent == 2
    assert client.get("/users/bo", headers=auth.user("bo")).json()["email"] == "bo@example.com"


def test_a_restock_whose_answer_is_lost_adds_its_units_once(client: TestClient, auth: Signer, api: Container) -> None:
    hook = lose(api, "TransactWriteItems")
    restocked = client.post("/products/mug/restock", json={"quantity": 5}, headers=auth.admin())
    assert restocked.status_code == 200, restocked.text
    assert hook.sent == 2
    assert restocked.json()["available"] == 15  # not 20: the retried ADD wrote nothing
    assert client.get("/products/mug", headers=auth.user("ada")).json()["available"] == 15


def test_an_import_whose_put_answer_is_lost_is_created(client: TestClient, auth: Signer, api: Container) -> None:
    hook = lose(api, "PutItem")
    started = client.post("/products/imports", json={"contentLength": 100}, headers=auth.admin())
    assert started.status_code in (201, 202), started.text
    assert hook.sent == 2


def test_a_transition_whose_answer_is_lost_is_the_transition(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, client: TestClient, auth: Signer, api: Container
) -> None:
    placed = client.post("/orders", json=order_body(), headers=auth.user("ada")).json()
    worker = as_function(stack, monkeypatch, "MarkOrderFailedFunction")
    hook = lose(worker, "UpdateItem")
    order = worker.order_repo.transition(placed["id"], OrderStatus.FAILED, datetime.now(UTC), reason="Test")
    assert order.status is OrderStatus.FAILED  # was IllegalTransition: the retry found FAILED
    assert hook.sent == 2


def test_a_charge_attempt_whose_counter_answer_is_lost_counts_once(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, api: Container
) -> None:
    gateway = as_function(stack, monkeypatch, "ProcessPaymentFunction")
    hook = lose(gateway, "UpdateItem")
    # tok_flaky's first attempt fails: counted twice, it would have been charged at once.
    with pytest.raises(ServiceUnavailable):
        gateway.payments.charge("order-lost-1", Money(1250, "USD"), FLAKY_TOKEN)
    assert hook.sent == 2
    ledger = aws(stack, "dynamodb").get_item(
        TableName=stack.ref("PaymentsTable"), Key={"orderId": {"S": "order-lost-1"}, "entry": {"S": "ATTEMPTS"}}
    )["Item"]
    assert ledger["attempts"] == {"N": "1"}
    gateway.payments.charge("order-lost-1", Money(1250, "USD"), FLAKY_TOKEN)  # the second attempt goes through


def test_a_charge_whose_ledger_answer_is_lost_is_refundable_once(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, api: Container
) -> None:
    gateway = as_function(stack, monkeypatch, "ProcessPaymentFunction")
    gateway.payments.charge("order-lost-2", Money(1250, "USD"), "tok_visa")
    hook = lose(gateway, "PutItem")
    assert gateway.payments.refund("order-lost-2") is True  # was False: "already refunded" by itself
    assert hook.sent == 2
    assert gateway.payments.refund("order-lost-2") is False


def test_a_low_stock_flag_whose_answer_is_lost_still_announces_the_dip(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, api: Container
) -> None:
    watcher = as_function(stack, monkeypatch, "OrderEventsFunction")
    hook = lose(watcher, "UpdateItem")
    assert watcher.stock_watch.mark_low("mug", threshold=50) == 10  # was None: the dip was never announced
    assert hook.sent == 2


def test_the_local_cloud_honours_client_request_tokens_as_dynamodb_does(stack: Stack, api: Container) -> None:
    dynamodb = aws(stack, "dynamodb")
    table = stack.ref("ProductsTable")
    add = {
        "Update": {
            "TableName": table,
            "Key": {"productId": {"S": "mug"}},
            "UpdateExpression": "ADD available :q, added :q",
            "ExpressionAttributeValues": {":q": {"N": "1"}},
        }
    }
    dynamodb.transact_write_items(TransactItems=[add], ClientRequestToken="token-1")
    dynamodb.transact_write_items(TransactItems=[add], ClientRequestToken="token-1")  # a retry: no write
    item = dynamodb.get_item(TableName=table, Key={"productId": {"S": "mug"}}, ConsistentRead=True)["Item"]
    assert item["available"] == {"N": "11"}
    other = {"Update": {**add["Update"], "ExpressionAttributeValues": {":q": {"N": "2"}}}}
    with pytest.raises(ClientError) as raised:
        dynamodb.transact_write_items(TransactItems=[other], ClientRequestToken="token-1")
    assert raised.value.response["Error"]["Code"] == "IdempotentParameterMismatchException"
    dynamodb.transact_write_items(TransactItems=[add], ClientRequestToken="token-2")
    item = dynamodb.get_item(TableName=table, Key={"productId": {"S": "mug"}}, ConsistentRead=True)["Item"]
    assert item["available"] == {"N": "12"}


def test_a_release_whose_answer_is_lost_gives_the_stock_back_and_says_so(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, client: TestClient, auth: Signer, api: Container
) -> None:
    placed = client.post("/orders", json=order_body(), headers=auth.user("ada")).json()
    worker = as_function(stack, monkeypatch, "CheckInventoryFunction")
    order = worker.order_repo.transition(placed["id"], OrderStatus.PROCESSING, datetime.now(UTC))
    worker.inventory.reserve(order, datetime.now(UTC))
    releaser = as_function(stack, monkeypatch, "ReleaseInventoryFunction")
    hook = lose(releaser, "TransactWriteItems")
    # Was False, "no reservation held": the compensation would have reported nothing given back.
    assert releaser.inventory.release(order, datetime.now(UTC)) is True
    assert hook.sent == 2
    assert client.get("/products/mug", headers=auth.user("ada")).json()["available"] == 10


def test_a_sale_whose_count_answer_is_lost_is_counted_once_and_reported_counted(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, api: Container
) -> None:
    counter = as_function(stack, monkeypatch, "OrderEventsFunction")
    today = datetime.now(UTC).date()
    hook = lose(counter, "TransactWriteItems")
    sale = Sale(day=today, currency="USD", revenue=1250, units={"mug": 1})
    assert counter.analytics_store.record("order-lost-3", sale) is True  # was False: "counted before"
    assert hook.sent == 2
    assert counter.analytics_store.record("order-lost-3", sale) is False  # a real redelivery is still refused
    (day,) = api.analytics_store.days(today, today)  # read as the API reads it
    assert day.orders == 1


def test_a_user_change_whose_answer_is_lost_is_the_change_not_a_412(
    client: TestClient, auth: Signer, api: Container
) -> None:
    got = client.get("/users/ada", headers=auth.user("ada"))
    hook = lose(api, "TransactWriteItems")
    changed = client.patch(
        "/users/ada", json={"name": "Ada L."}, headers={**auth.user("ada"), "If-Match": got.headers["etag"]}
    )
    assert changed.status_code == 200, changed.text
    assert hook.sent == 2
    assert client.get("/users/ada", headers=auth.user("ada")).json()["name"] == "Ada L."
