"""The published event contracts: committed schemas match the models, and publishers emit valid events."""

from __future__ import annotations

import json

import pytest

from app.domain.events import CONTRACTS, Contract, LowStock, OrderFailed, OrderProcessed, UserCreated
from app.domain.notifications import confirmation_text, failure_text, format_amount
from app.services.order_workflow import order_detail
from infra.schemas import path_of, rendered
from tests.support.order_world import OrderWorld


@pytest.mark.parametrize("contract", CONTRACTS, ids=lambda c: c.DETAIL_TYPE)
def test_committed_schema_matches_the_model(contract: type[Contract]) -> None:
    path = path_of(contract)
    assert path.exists(), f"{path.name} is missing: run `make schemas`"
    assert path.read_text() == rendered(contract), f"{path.name} drifted from its model: run `make schemas`"


@pytest.mark.parametrize("contract", CONTRACTS, ids=lambda c: c.DETAIL_TYPE)
def test_every_contract_is_versioned_and_requires_its_fields(contract: type[Contract]) -> None:
    schema = json.loads(rendered(contract))
    assert schema["properties"]["version"]["const"] == 1
    assert "version" in schema["required"]
    assert schema["x-detail-type"] == contract.DETAIL_TYPE


def test_the_workflow_publishes_valid_order_processed_and_order_failed() -> None:
    world = OrderWorld()
    world.catalog.put("mug", "Mug", 1234, "USD")
    world.catalog.restock("mug", 5)
    user = world.add_user("ada")
    order = world.order_service.place(user.sub, [("mug", 1)]).order
    world.order_dispatcher.dispatch(order.id)
    for step in (world.order_workflow.validate, world.order_workflow.reserve, world.order_workflow.charge):
        step(order.id)
    world.order_workflow.commit(order.id)
    world.order_workflow.notify(order.id)
    other = world.order_service.place(user.sub, [("mug", 1)]).order
    world.order_dispatcher.dispatch(other.id)
    world.order_workflow.fail(other.id, "PaymentFailed")

    (kind1, detail1), (kind2, detail2) = world.events.events
    processed = OrderProcessed.model_validate(detail1)
    failed = OrderFailed.model_validate(detail2)
    assert (kind1, kind2) == ("OrderProcessed", "OrderFailed")
    assert (processed.orderId, processed.total, processed.status, processed.version) == (order.id, 1234, "CONFIRMED", 1)
    assert (failed.orderId, failed.reason, failed.status) == (other.id, "PaymentFailed", "FAILED")
    assert order_detail(world.orders.orders[order.id]) == detail1


def test_user_created_message_is_the_contract() -> None:
    from app.services.cursor import CursorCodec
    from app.services.users import UserService
    from tests.support.fakes import FakeClock, InMemoryUserRepository, RecordingPublisher

    publisher = RecordingPublisher()
    service = UserService(InMemoryUserRepository(), publisher, FakeClock(), CursorCodec("k" * 32, "users"), "arn:t")
    service.create("Ada", "ada@example.com", user_id="u1")
    (message,) = publisher.messages
    event = UserCreated.model_validate_json(message.body)
    assert (event.userId, event.email, event.version) == ("u1", "ada@example.com", 1)
    assert message.attributes == {"eventType": "UserCreated", "userId": "u1"}


def test_low_stock_rejects_a_zero_threshold() -> None:
    with pytest.raises(ValueError, match="threshold"):
        LowStock(productId="mug", available=0, threshold=0)


@pytest.mark.parametrize(
    ("minor", "currency", "text"),
    [(1234, "USD", "$12.34"), (5, "EUR", "€0.05"), (123456789, "GBP", "£1,234,567.89"), (1000, "CHF", "10.00 CHF")],
)
def test_amounts_are_formatted_from_minor_units(minor: int, currency: str, text: str) -> None:
    assert format_amount(minor, currency) == text
    assert format_amount(-minor, currency) == f"-{text}"


def test_notification_texts_list_the_lines_the_total_and_the_reason() -> None:
    items = [
        {"productId": "mug", "quantity": 2, "unitPrice": 500},
        {"productId": "tea", "quantity": 1, "unitPrice": 234},
    ]
    body = {"orderId": "o-1", "userId": "ada", "status": "CONFIRMED", "items": items, "total": 1234, "currency": "USD"}
    confirmation = confirmation_text(OrderProcessed.model_validate(body))
    assert "o-1" in confirmation
    assert "2 x mug @ $5.00 = $10.00" in confirmation
    assert "1 x tea @ $2.34 = $2.34" in confirmation
    assert confirmation.endswith("Total: $12.34")
    failure = failure_text(OrderFailed.model_validate({**body, "status": "FAILED", "reason": "PaymentFailed"}))
    assert "Reason: PaymentFailed" in failure
    assert "o-1" in failure
