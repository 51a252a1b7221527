"""Money: integer minor units plus an ISO 4217 currency code, never floats."""

from __future__ import annotations

import re
from dataclasses import dataclass

from app.domain.errors import ValidationError

_CURRENCY = re.compile(r"^[A-Z]{3}$")
MAX_AMOUNT = 10**12


@dataclass(frozen=True, order=True)
class Money:
    """An amount in minor units (cents) of one currency."""

    amount: int
    currency: str

    def __add__(self, other: Money) -> Money:
        if other.currency != self.currency:
            raise ValidationError(f"cannot add {other.currency} to {self.currency}")
        return Money(self.amount + other.amount, self.currency)

    def times(self, quantity: int) -> Money:
        """This amount multiplied by a quantity."""
        return Money(self.amount * quantity, self.currency)

    def format(self) -> str:
        """Human-readable, e.g. '12.34 USD'."""
        whole, cents = divmod(self.amount, 100)
        return f"{whole}.{cents:02d} {self.currency}"


def check_currency(code: str) -> str:
    """An upper-case three-letter currency code."""
    upper = code.strip().upper()
    if not _CURRENCY.fullmatch(upper):
        raise ValidationError("currency is not valid", [{"field": "currency", "message": "must be 3 letters"}])
    return upper


def check_price(amount: int) -> int:
    """A price in minor units: a positive integer within bounds."""
    if isinstance(amount, bool) or not isinstance(amount, int) or not 0 < amount <= MAX_AMOUNT:
        raise ValidationError("price is not valid", [{"field": "price", "message": f"must be 1-{MAX_AMOUNT}"}])
    return amount
