"""The stock-and-money property on the DynamoDB adapters, where the rules are conditions and transactions.

The unit suite runs it 150 times on the fakes; here a smaller budget runs it against the local cloud,
so that a fake that is stricter (or looser) than DynamoDB cannot hide a broken condition expression.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import workers.order_workflow
from infra.local.cloud import LocalCloud
from infra.local.provision import provision
from infra.local.template import Stack
from tests.support.order_world import OrderWorld
from tests.support.shop import DynamoShop, action, exercise, wired_tasks


@pytest.mark.slow
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(actions=st.lists(action, max_size=20))
def test_stock_and_money_invariants_on_dynamodb(
    actions: list[tuple[Any, ...]], stack: Stack, local_cloud: LocalCloud, monkeypatch: pytest.MonkeyPatch
) -> None:
    local_cloud.reset()  # each example starts from an empty cloud
    provision(stack)
    shop = DynamoShop(OrderWorld(), stack)
    monkeypatch.setattr(workers.order_workflow, "services", lambda: shop.container)

    exercise(shop, wired_tasks, actions)
