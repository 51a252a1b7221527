"""make load FLASH=1's verdict on stock failures: only a failure that provably left a unit unsold counts."""

from __future__ import annotations

from typing import Any

from infra.bench.flash import false_stock_failures


def order(order_id: str, status: str, created: int, updated: int, reason: str | None = None) -> dict[str, Any]:
    at = "2026-12-07T17:00:{:02}+00:00".format
    return {"id": order_id, "status": status, "reason": reason, "createdAt": at(created), "updatedAt": at(updated)}


def test_a_sale_after_a_stock_failure_with_nothing_released_proves_a_unit_was_left() -> None:
    short = order("o-1", "FAILED", 1, 2, "InsufficientInventory")
    orders = [short, order("o-2", "CONFIRMED", 3, 5)]
    assert false_stock_failures(orders, released=set()) == [short]


def test_a_unit_released_after_the_failure_explains_the_later_sale() -> None:
    orders = [
        order("o-1", "FAILED", 1, 2, "InsufficientInventory"),
        order("o-2", "FAILED", 0, 4, "ServiceUnavailable"),  # reserved its unit, then gave it back
        order("o-3", "CONFIRMED", 5, 6),
    ]
    assert false_stock_failures(orders, released={"o-2"}) == []
    assert false_stock_failures(orders, released=set()) == [orders[0]]  # a failure that reserved nothing


def test_sales_placed_before_the_failure_and_other_failures_prove_nothing() -> None:
    orders = [
        order("o-1", "CONFIRMED", 0, 9),
        order("o-2", "FAILED", 1, 2, "InsufficientInventory"),
        order("o-3", "FAILED", 3, 4, "ServiceUnavailable"),
    ]
    assert false_stock_failures(orders, released=set()) == []
