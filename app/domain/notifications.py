"""The texts of the notifications a user receives about an order."""

from __future__ import annotations

from app.domain.events import OrderFailed, OrderLineV1, OrderProcessed

CONFIRMATION_SUBJECT = "Order Confirmation"
FAILURE_SUBJECT = "Order Failed"
_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£"}


def format_amount(minor: int, currency: str) -> str:
    """Minor units for people: `$12.34`, or `12.34 CHF` for a currency without a symbol here."""
    sign = "-" if minor < 0 else ""
    whole, cents = divmod(abs(minor), 100)
    symbol = _SYMBOLS.get(currency)
    return f"{sign}{symbol}{whole:,}.{cents:02d}" if symbol else f"{sign}{whole:,}.{cents:02d} {currency}"


def _lines(items: list[OrderLineV1], currency: str) -> list[str]:
    return [
        f"  {x.quantity} x {x.productId} @ {format_amount(x.unitPrice, currency)}"
        f" = {format_amount(x.quantity * x.unitPrice, currency)}"
        for x in items
    ]


def confirmation_text(event: OrderProcessed) -> str:
    """The body of the order confirmation."""
    return "\n".join(
        [
            f"Your order {event.orderId} is confirmed.",
            "",
            *_lines(event.items, event.currency),
            "",
            f"Total: {format_amount(event.total, event.currency)}",
        ]
    )


def failure_text(event: OrderFailed) -> str:
    """The body of the notice that an order failed, with its reason."""
    return "\n".join(
        [
            f"Your order {event.orderId} could not be completed.",
            f"Reason: {event.reason}",
            "",
            *_lines(event.items, event.currency),
            "",
            f"Total: {format_amount(event.total, event.currency)} (not charged, or refunded)",
        ]
    )
