"""The index write units the bill adds to each DynamoDB write, from the template's projections."""

from __future__ import annotations

from infra.bench.index_writes import Index, indexes, units, updated
from infra.local.template import Stack, load_template

ALL = Index("ByUser", frozenset({"userId", "createdAt"}), None)
KEYS = Index("ByUser", frozenset({"userId", "createdAt"}), frozenset())
SOME = Index("ByDay", frozenset({"day"}), frozenset({"total"}))


def test_an_update_expression_names_the_top_level_attributes_it_changes() -> None:
    expression = "SET #s = :c, inventory = :r, taken[0].q = if_not_exists(x, :z) REMOVE reason ADD n :one"
    assert updated(expression, {"#s": "status"}) == {"status", "inventory", "taken", "reason", "n"}


def test_a_projection_of_every_attribute_is_written_by_every_update_and_keys_only_by_none_of_ours() -> None:
    update = {"TableName": "orders", "UpdateExpression": "SET payment = :c, updatedAt = :now"}
    put = {"TableName": "orders", "Item": {"orderId": {}, "userId": {}, "createdAt": {}, "status": {}}}
    assert units("UpdateItem", update, {"orders": (ALL,)}) == 1
    assert units("UpdateItem", update, {"orders": (KEYS,)}) == 0
    assert units("PutItem", put, {"orders": (KEYS,)}) == 1
    assert units("PutItem", {**put, "Item": {"orderId": {}}}, {"orders": (KEYS,)}) == 0  # not in a sparse index
    assert units("UpdateItem", {**update, "UpdateExpression": "SET total = :t"}, {"orders": (SOME,)}) == 1
    transaction = {"TransactItems": [{"Update": update}, {"Put": put}, {"ConditionCheck": {"TableName": "orders"}}]}
    assert units("TransactWriteItems", transaction, {"orders": (ALL,)}) == 2  # not doubled in a transaction
    assert units("DeleteItem", {"TableName": "orders"}, {"orders": (KEYS, SOME)}) == 2
    assert units("UpdateItem", {**update, "TableName": "other"}, {"orders": (ALL,)}) == 0


def test_the_template_s_tables_are_read_with_their_indexes() -> None:
    stack = Stack(load_template(), "http://127.0.0.1:1")
    found = indexes(stack.resources, stack.name)
    orders = found[stack.name("OrdersTable")]
    assert [i.name for i in orders]
    assert all("userId" in i.keys for i in orders)
    assert found[stack.name("PaymentsTable")] == ()
