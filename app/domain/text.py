"""Shared rules for free-text fields."""

from __future__ import annotations

from app.domain.errors import ValidationError


def trimmed(value: str, field: str, maximum: int) -> str:
    """The value without surrounding whitespace; ValidationError unless 1..maximum characters remain."""
    text = value.strip()
    if not 1 <= len(text) <= maximum:
        raise ValidationError(
            f"{field} must be 1-{maximum} characters",
            [{"field": field, "message": f"must be 1-{maximum} characters after trimming"}],
        )
    return text
