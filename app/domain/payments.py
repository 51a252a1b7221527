"""Deterministic rules of the simulated payment gateway, documented for testers.

- token `tok_declined`: every charge is declined (PaymentFailed "card declined");
- an amount above the configured limit (PAYMENT_LIMIT_MINOR, default 100000 = 1000.00)
  is declined (PaymentFailed "amount over limit");
- token `tok_flaky`: the first attempt per order fails with a transient ServiceUnavailable
  (Step Functions retries it), later attempts succeed;
- any other token is charged.
"""

from __future__ import annotations

from app.domain.errors import PaymentFailed, ServiceUnavailable
from app.domain.money import Money

DECLINED_TOKEN = "tok_declined"  # noqa: S105 - public test token
FLAKY_TOKEN = "tok_flaky"  # noqa: S105 - public test token
DEFAULT_LIMIT_MINOR = 100_000


def check_charge(amount: Money, token: str, limit: int, attempt: int) -> None:
    """Raise PaymentFailed or ServiceUnavailable per the rules above; return if the charge goes through."""
    if token == DECLINED_TOKEN:
        raise PaymentFailed("card declined")
    if amount.amount > limit:
        raise PaymentFailed(f"amount {amount.format()} is over the limit")
    if token == FLAKY_TOKEN and attempt <= 1:
        raise ServiceUnavailable("payment gateway timed out, retry")
