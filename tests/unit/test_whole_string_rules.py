"""Every id, name and pattern rule matches the whole string: `$` in Python's `re` also matches before a
final newline, so `'someone\\n'` passed rules written with `.match(...$)`. Each rule is tried with a
trailing newline: it is refused, or (where the rule trims) the newline never reaches what is stored."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from app.api.middleware import correlation_id
from app.domain.catalog_import import import_id_of, parse_row
from app.domain.errors import ValidationError
from app.domain.money import check_currency
from app.domain.users import normalise_email
from infra.local.runtime.cron import rate_seconds
from workers.common import order_id_of

IMPORT_ID = "0123456789abcdef0123456789abcdef"


def test_an_order_id_with_a_trailing_newline_is_refused() -> None:
    assert order_id_of({"orderId": "abc-1"}) == "abc-1"
    with pytest.raises(ValidationError):
        order_id_of({"orderId": "abc-1\n"})


def test_an_import_key_with_a_trailing_newline_is_not_an_imports() -> None:
    assert import_id_of(f"imports/{IMPORT_ID}.csv") == IMPORT_ID
    assert import_id_of(f"imports/{IMPORT_ID}.csv\n") is None


def test_a_caller_given_correlation_id_with_a_trailing_newline_is_replaced() -> None:
    scope: dict[str, Any] = {}
    assert correlation_id(scope, {"x-correlation-id": "req-1"}) == "req-1"
    replaced = correlation_id(scope, {"x-correlation-id": "req-1\n"})
    assert replaced != "req-1\n"
    assert "\n" not in replaced


def test_a_rate_with_a_trailing_newline_inside_is_refused() -> None:
    assert rate_seconds("rate(5 minutes)") == 300
    assert rate_seconds("rate(5 minutes\n)") is None
    assert rate_seconds("rate(5\n minutes)") == 300  # \s is any whitespace, as EventBridge's own parser


@pytest.mark.parametrize(
    "rule",
    [
        pytest.param(lambda text: normalise_email(f"{text}@example.com"), id="email-local-part"),
        pytest.param(lambda text: normalise_email(f"ada@example.{text}"), id="email-domain"),
    ],
)
def test_an_email_with_a_newline_inside_is_refused(rule: Callable[[str], str]) -> None:
    with pytest.raises(ValidationError):
        rule("a\nda")


def test_a_trimmed_rule_never_stores_the_newline() -> None:
    assert normalise_email("ada@example.com\n") == "ada@example.com"
    assert check_currency("usd\n") == "USD"


@pytest.mark.parametrize("field", [0, 2, 4])
def test_an_import_rows_whole_number_and_id_with_a_newline_inside_are_refused(field: int) -> None:
    fields = ["p-1", "Lamp", "1250", "USD", "15"]
    assert parse_row(2, fields).product_id == "p-1"
    fields[field] = fields[field][:1] + "\n" + fields[field][1:]
    with pytest.raises(ValidationError):
        parse_row(2, fields)
