"""The state machine's error names and the domain's exception classes are one vocabulary."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from app.domain import errors
from app.domain.errors import WORKFLOW_ERRORS, IdempotencyKeyReused, ValidationError
from workers.common import task

DEFINITION = Path(__file__).resolve().parents[2] / "infra" / "statemachine" / "order_workflow.asl.json"
AWS_PREFIXES = ("States.", "Lambda.", "Runtime.", "Sandbox.")


def matched_names() -> set[str]:
    states = json.loads(DEFINITION.read_text())["States"]
    rules = [r for s in states.values() for key in ("Retry", "Catch") for r in s.get(key, [])]
    return {name for rule in rules for name in rule["ErrorEquals"]}


def test_every_error_the_definition_matches_is_a_domain_class_or_an_aws_name() -> None:
    ours = {name for name in matched_names() if not name.startswith(AWS_PREFIXES)}
    assert ours == {cls.__name__ for cls in WORKFLOW_ERRORS}
    assert all(isinstance(getattr(errors, name), type) for name in ours)


@pytest.mark.parametrize(
    ("raised", "surfaces_as"),
    [
        (IdempotencyKeyReused("reused"), "ValidationError"),  # a subclass meets its parent's Catch
        (ValidationError("bad"), "ValidationError"),
        (errors.IllegalTransition("no"), "IllegalTransition"),  # not a workflow error: States.ALL, as written
        (errors.PaymentFailed("declined"), "PaymentFailed"),
    ],
)
def test_a_task_raises_the_name_the_definition_matches(raised: Exception, surfaces_as: str) -> None:
    @task
    def failing(event: dict[str, Any], context: Any) -> None:
        raise raised

    with pytest.raises(errors.DomainError) as caught:
        failing({"orderId": "o-1"}, None)
    assert type(caught.value).__name__ == surfaces_as
    assert str(caught.value) == str(raised)
