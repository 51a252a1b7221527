"""The bill's derived lines: X-Ray's sampling, the tracing switch, keys and secrets spread over a month."""

from __future__ import annotations

import pytest

from infra.bench import bill
from infra.local.template import Stack, load_template


def stack(**overrides: str) -> Stack:
    return Stack(load_template(), "http://127.0.0.1:1", overrides=overrides)


def test_below_the_reservoir_every_request_is_traced_and_beyond_it_five_percent_of_the_rest() -> None:
    assert bill.traced_share(0.4) == 1.0
    assert bill.traced_share(101) == pytest.approx((1 + 0.05 * 100) / 101)


def test_traces_cost_nothing_by_default_and_five_dollars_a_million_when_active_at_a_quiet_rate() -> None:
    assert bill.xray(stack()).usd == 0.0
    assert bill.xray(stack(TracingMode="Active")).usd == pytest.approx(5.0)


def test_kms_counts_each_function_and_encrypted_table_once_whatever_the_number_of_calls() -> None:
    orders = stack().name("OrdersTable")
    assert bill.kms([("ApiFunction", "dynamodb", "GetItem", {"TableName": orders})], stack()).quantity == 0  # owned key
    s = stack(TableKey="AWS_MANAGED")
    orders = s.name("OrdersTable")
    trace = [("ApiFunction", "dynamodb", "GetItem", {"TableName": orders})] * 50
    one = bill.kms(trace, s)
    two = bill.kms([*trace, ("ProcessOrderFunction", "dynamodb", "UpdateItem", {"TableName": orders})], s)
    assert one.quantity == pytest.approx(bill.MONTH_SECONDS / 300 / bill.ORDERS_A_MONTH)
    assert two.quantity == pytest.approx(2 * one.quantity)


def test_platform_records_are_named_only_when_the_system_level_keeps_them() -> None:
    assert "dropped" in bill.logs(1000, "WARN").source
    assert bill.logs(2000, "INFO").usd == pytest.approx(2 * bill.logs(1000, "INFO").usd)


def test_secret_reads_count_each_granted_secret_once_per_max_age() -> None:
    s = stack()
    # JwtSecret for the authorizer; JwtSecret and CursorSigningSecret for the API (infra/template.yaml).
    assert bill.secrets(s, 300).quantity == pytest.approx(3 * bill.MONTH_SECONDS / 300 / bill.ORDERS_A_MONTH)
    assert bill.secrets(s, 150).usd == pytest.approx(2 * bill.secrets(s, 300).usd)


def test_a_queue_consumer_s_batch_is_what_its_window_gathers_at_the_steady_rate() -> None:
    rate = bill.ORDERS_A_MONTH / bill.MONTH_SECONDS
    assert bill.batch_of(stack(), "ProcessOrderFunction") == pytest.approx(rate * 5)  # the template's 5 s window
    assert bill.batch_of(stack(OrderBatchingWindowSeconds="0"), "ProcessOrderFunction") == 1.0
    assert bill.batch_of(stack(OrderBatchingWindowSeconds="300"), "ProcessOrderFunction") == 10.0  # a full batch
    assert bill.batch_of(stack(), "ApiFunction") == 1.0  # not a queue's consumer
    s = stack()
    assert bill.consumers(s)[s.name("OrderQueue")] == "ProcessOrderFunction"
