"""`make run PARAMS=`: overrides are checked against the template's declarations before anything starts."""

from __future__ import annotations

import pytest

from infra.local.parameters import BadParameter, overrides
from infra.local.template import load_template

TEMPLATE = load_template()


def test_declared_values_pass_through() -> None:
    pairs = ["WorkflowType=STANDARD", "OrderBatchingWindowSeconds=0", "CorsAllowedOrigins=a=b"]
    assert overrides(pairs, TEMPLATE) == {
        "WorkflowType": "STANDARD",
        "OrderBatchingWindowSeconds": "0",
        "CorsAllowedOrigins": "a=b",  # only the first = splits
    }


@pytest.mark.parametrize(
    ("pair", "says"),
    [
        ("WorkflowType", "is not Name=Value"),
        ("=STANDARD", "is not Name=Value"),
        ("Workflowtype=STANDARD", "has no parameter Workflowtype"),
        ("WorkflowType=express", "must be one of EXPRESS, STANDARD"),
        ("OrderBatchingWindowSeconds=five", "is a number"),
        ("OrderBatchingWindowSeconds=301", "between 0 and 300"),
        ("OrderQueueConcurrency=1", "between 2 and 1000"),
    ],
)
def test_what_cloudformation_would_refuse_is_refused_in_one_line(pair: str, says: str) -> None:
    with pytest.raises(BadParameter) as refused:
        overrides([pair], TEMPLATE)
    assert says in str(refused.value)
    assert "\\n" not in str(refused.value)
