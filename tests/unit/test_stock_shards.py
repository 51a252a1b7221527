"""Planning where an order's units come from: the first shard an order tries, and a plan from a snapshot."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from app.adapters.dynamodb.stock_shards import ShardCounts, first_choice, replan
from app.domain.orders import Order, OrderLine, OrderStatus, StockTake

T0 = datetime(2026, 12, 7, tzinfo=UTC)
shelf = st.lists(
    st.integers(0, 5).map(lambda a: {"available": a, "reserved": 0, "sold": 0, "added": a}), min_size=1, max_size=8
)


def order(order_id: str, *lines: tuple[str, int]) -> Order:
    return Order(order_id, "ada", tuple(OrderLine(p, q, 100) for p, q in lines), "USD", OrderStatus.PROCESSING, T0, T0)


def test_orders_spread_over_the_shards_and_a_rerun_tries_the_same_one() -> None:
    counts = ShardCounts()
    counts.saw("mug", 8)
    picks = [first_choice(order(f"o-{i}", ("mug", 1), ("tea", 2)), counts) for i in range(400)]
    used = {take.shard for pick in picks for take in pick if take.product_id == "mug"}
    assert used == set(range(8))  # every shard takes orders
    assert {take.shard for pick in picks for take in pick if take.product_id == "tea"} == {0}  # unsharded
    assert picks[7] == first_choice(order("o-7", ("mug", 1), ("tea", 2)), counts)


@given(seen=shelf, wanted=st.integers(1, 30), first=st.integers(0, 7))
def test_a_plan_takes_what_is_there_once_per_shard_and_leaves_others_alone(
    seen: list[dict[str, int]], wanted: int, first: int
) -> None:
    takes = (StockTake("mug", first % len(seen), wanted), StockTake("tea", 0, 2))
    planned = replan(takes, {"mug": seen})
    mine = [t for t in planned if t.product_id == "mug"]
    assert len({t.shard for t in mine}) == len(mine)  # a transaction cannot name one item twice
    assert all(0 < t.quantity <= seen[t.shard]["available"] for t in mine)
    assert sum(t.quantity for t in mine) == min(wanted, sum(s["available"] for s in seen))
    assert [t for t in planned if t.product_id == "tea"] == [StockTake("tea", 0, 2)]
    assert replan(planned, {"mug": seen}) == planned  # a split plan, planned again, is the same plan


def test_first_choices_skip_the_shards_a_recent_snapshot_saw_dry_until_the_hint_expires() -> None:
    now = [0.0]
    counts = ShardCounts(clock=lambda: now[0])
    counts.saw("mug", 4)
    counts.saw_dry("mug", frozenset({0, 2}))
    shards = {first_choice(order(f"o-{i}", ("mug", 1)), counts)[0].shard for i in range(200)}
    assert shards == {1, 3}
    counts.saw_dry("mug", frozenset(range(4)))  # every shard dry: the hash decides, a snapshot then the outcome
    assert {first_choice(order(f"o-{i}", ("mug", 1)), counts)[0].shard for i in range(200)} == set(range(4))
    counts.saw_dry("mug", frozenset({0, 2}))
    now[0] = 10.0  # a restock may have refilled them: after DRY_SECONDS they take orders again
    assert {first_choice(order(f"o-{i}", ("mug", 1)), counts)[0].shard for i in range(200)} == set(range(4))


def test_orders_planned_from_one_snapshot_spread_over_the_shards_that_can_fill_them() -> None:
    seen = [{"available": a, "reserved": 0, "sold": 0, "added": a} for a in (0, 9, 1, 4, 0)]
    shards = {replan((StockTake("mug", 0, 2),), {"mug": seen}, f"o-{i}")[0].shard for i in range(200)}
    assert shards == {1, 3}  # each can fill 2 units whole; the fullest alone would take every order
