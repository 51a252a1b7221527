from __future__ import annotations

from datetime import UTC, datetime

import pytest

from app.domain.errors import IllegalTransition, PaymentFailed, ServiceUnavailable, ValidationError
from app.domain.money import Money, check_currency, check_price
from app.domain.orders import (
    FINAL,
    Order,
    OrderLine,
    OrderStatus,
    can_move,
    check_items,
    price_lines,
    request_fingerprint,
    sources_of,
    stale_lines,
)
from app.domain.payments import DECLINED_TOKEN, FLAKY_TOKEN, check_charge
from app.domain.products import Product, check_restock, normalise_product_name

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def product(pid: str, price: int, currency: str = "USD") -> Product:
    return Product(pid, pid.title(), Money(price, currency), T0, T0)


def test_money_adds_only_one_currency_and_formats_minor_units() -> None:
    assert Money(1050, "USD") + Money(5, "USD") == Money(1055, "USD")
    assert Money(250, "EUR").times(3) == Money(750, "EUR")
    assert Money(1234, "USD").format() == "12.34 USD"
    with pytest.raises(ValidationError):
        Money(1, "USD") + Money(1, "EUR")


def test_price_and_currency_checks() -> None:
    assert check_price(1) == 1
    assert check_currency(" usd ") == "USD"
    for bad in [0, -5, 10**13, True]:
        with pytest.raises(ValidationError):
            check_price(bad)
    for code in ["US", "USDX", "12$"]:
        with pytest.raises(ValidationError):
            check_currency(code)


def test_product_rules() -> None:
    assert normalise_product_name("  Mug ") == "Mug"
    assert check_restock(1_000_000) == 1_000_000
    with pytest.raises(ValidationError):
        normalise_product_name("  ")
    for bad in [0, 1_000_001]:
        with pytest.raises(ValidationError):
            check_restock(bad)


def test_status_machine() -> None:
    assert sources_of(OrderStatus.PROCESSING) == {OrderStatus.PENDING}
    assert sources_of(OrderStatus.CONFIRMED) == {OrderStatus.PROCESSING}
    assert sources_of(OrderStatus.CANCELLED) == {OrderStatus.PENDING, OrderStatus.PROCESSING}
    assert sources_of(OrderStatus.FAILED) == {OrderStatus.PENDING, OrderStatus.PROCESSING}
    assert not can_move(OrderStatus.PENDING, OrderStatus.CONFIRMED)
    for final in FINAL:
        assert not any(can_move(final, target) for target in OrderStatus)


def test_order_total_moves_and_cancellable() -> None:
    order = Order("o1", "u1", (OrderLine("a", 2, 150), OrderLine("b", 1, 99)), "USD", OrderStatus.PENDING, T0, T0)
    assert order.total == Money(399, "USD")
    assert order.cancellable
    moved = order.moved(OrderStatus.FAILED, T0, "InsufficientInventory")
    assert (moved.status, moved.reason) == (OrderStatus.FAILED, "InsufficientInventory")
    assert not moved.cancellable
    with pytest.raises(IllegalTransition):
        moved.moved(OrderStatus.CONFIRMED, T0)


def test_items_limits() -> None:
    assert check_items([("a", 1), ("b", 1000)]) == [("a", 1), ("b", 1000)]
    cases = {
        "empty": [],
        "too many lines": [(f"p{i}", 1) for i in range(51)],
        "zero": [("a", 0)],
        "too many units": [("a", 1001)],
        "repeated": [("a", 1), ("a", 2)],
    }
    for items in cases.values():
        with pytest.raises(ValidationError) as info:
            check_items(items)
        assert info.value.errors
    with pytest.raises(ValidationError) as info:
        check_items([("a", 1), ("a", 0)])
    assert {e["field"] for e in info.value.errors} == {"items.1.quantity", "items.1.productId"}


def test_lines_are_priced_from_the_catalog() -> None:
    catalog = {"a": product("a", 250), "b": product("b", 1000), "e": product("e", 5, "EUR")}
    lines, currency = price_lines([("a", 2), ("b", 1)], catalog)
    assert lines == (OrderLine("a", 2, 250), OrderLine("b", 1, 1000))
    assert currency == "USD"
    with pytest.raises(ValidationError) as info:
        price_lines([("a", 1), ("zzz", 1)], catalog)
    assert info.value.errors == [{"field": "items.1.productId", "message": "unknown product zzz"}]
    with pytest.raises(ValidationError):
        price_lines([("a", 1), ("e", 1)], catalog)


def test_stale_lines_spot_price_changes_and_removals() -> None:
    order = Order("o", "u", (OrderLine("a", 1, 250), OrderLine("b", 1, 10)), "USD", OrderStatus.PROCESSING, T0, T0)
    assert stale_lines(order, {"a": product("a", 250), "b": product("b", 10)}) == []
    assert stale_lines(order, {"a": product("a", 300), "b": product("b", 10, "EUR")}) == ["a", "b"]
    assert stale_lines(order, {"a": product("a", 250)}) == ["b"]


def test_fingerprint_depends_on_items_and_token() -> None:
    base = request_fingerprint([("a", 1)], "tok_visa")
    assert base == request_fingerprint([("a", 1)], "tok_visa")
    assert base != request_fingerprint([("a", 2)], "tok_visa")
    assert base != request_fingerprint([("a", 1)], "tok_other")


def test_payment_rules_are_deterministic() -> None:
    check_charge(Money(100_000, "USD"), "tok_visa", 100_000, 1)
    with pytest.raises(PaymentFailed, match="declined"):
        check_charge(Money(1, "USD"), DECLINED_TOKEN, 100_000, 1)
    with pytest.raises(PaymentFailed, match="limit"):
        check_charge(Money(100_001, "USD"), "tok_visa", 100_000, 1)
    with pytest.raises(ServiceUnavailable):
        check_charge(Money(1, "USD"), FLAKY_TOKEN, 100_000, 1)
    check_charge(Money(1, "USD"), FLAKY_TOKEN, 100_000, 2)
