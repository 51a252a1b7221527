"""ProcessOrder over in-memory fakes: partial batch failures, malformed bodies, duplicates."""

from __future__ import annotations

import io
import json
import logging

import pytest

import workers.process_order
from app.domain.orders import OrderStatus
from app.observability import logger
from infra.local.payloads import LambdaContext, sqs_event
from tests.support.order_world import OrderWorld


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> OrderWorld:
    w = OrderWorld()
    w.add_user("u1")
    monkeypatch.setattr(workers.process_order, "services", lambda: w.container)
    w.catalog.put("mug", "Mug", 500, "USD")
    return w


def test_each_order_starts_its_workflow_once(world: OrderWorld) -> None:
    a = world.order_service.place("u1", [("mug", 1)]).order
    b = world.order_service.place("u1", [("mug", 2)]).order
    event = sqs_event({"orderId": a.id}, {"orderId": b.id}, {"orderId": a.id})
    assert workers.process_order.handler(event, LambdaContext()) == {"batchItemFailures": []}
    assert sorted(world.starter.started) == sorted([a.id, b.id])
    assert world.orders.orders[a.id].status is OrderStatus.PENDING  # the reservation makes it PROCESSING
    # A redelivery of the whole batch has no further effect.
    assert workers.process_order.handler(event, LambdaContext()) == {"batchItemFailures": []}
    assert len(world.starter.started) == 2


def test_bad_records_fail_alone(world: OrderWorld, caplog: pytest.LogCaptureFixture) -> None:
    good = world.order_service.place("u1", [("mug", 1)]).order
    event = sqs_event("{not json", {"orderId": good.id}, {"nope": 1}, {"orderId": "unknown-order"})
    ids = [r["messageId"] for r in event["Records"]]
    with caplog.at_level(logging.ERROR):
        reply = workers.process_order.handler(event, LambdaContext())
    assert reply == {"batchItemFailures": [{"itemIdentifier": i} for i in (ids[0], ids[2], ids[3])]}
    assert list(world.starter.started) == [good.id]
    logged = [getattr(r, "messageId", None) for r in caplog.records if r.message == "malformed order message"]
    assert logged == [ids[0], ids[2]]


def test_cancelled_order_is_skipped(world: OrderWorld) -> None:
    from app.domain.auth import Principal

    order = world.order_service.place("u1", [("mug", 1)]).order
    world.order_service.cancel(order.id, Principal("u1"))
    assert workers.process_order.handler(sqs_event({"orderId": order.id}), LambdaContext()) == {"batchItemFailures": []}
    assert world.starter.started == {}


def test_a_batch_where_every_record_fails_is_a_partial_reply_not_an_error(world: OrderWorld) -> None:
    event = sqs_event("{not json", {"nope": 1})
    reply = workers.process_order.handler(event, LambdaContext())
    assert reply == {"batchItemFailures": [{"itemIdentifier": r["messageId"]} for r in event["Records"]]}


def test_a_malformed_record_carries_no_earlier_orders_id(world: OrderWorld) -> None:
    good = world.order_service.place("u1", [("mug", 1)]).order
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(logger.registered_formatter)  # formats at emit time, with the keys of that moment
    logging.getLogger(logger.name).addHandler(handler)
    level = logger.log_level
    logger.setLevel("DEBUG")  # "order dispatched" is a DEBUG line (one per order: LogLevel=DEBUG shows it)
    try:
        workers.process_order.handler(sqs_event({"orderId": good.id}, "{not json"), LambdaContext())
    finally:
        logger.setLevel(level)
        logging.getLogger(logger.name).removeHandler(handler)
    lines = {x["message"]: x for x in map(json.loads, out.getvalue().splitlines())}
    assert lines["order dispatched"]["correlation_id"] == good.id
    assert "correlation_id" not in lines["malformed order message"]
