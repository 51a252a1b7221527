"""Shared rules for free-text fields: one rule for every display name (users, products, CSV imports)."""

from __future__ import annotations

import unicodedata

from app.domain.errors import ValidationError

# Unicode categories that never belong in a display name: controls (NUL, CR/LF, ESC...), unassigned,
# surrogates and private use. Format characters (Cf: zero-width space, bidi marks) are allowed only next
# to visible characters, so "only a zero-width space" is refused but joiners inside emoji still work.
_FORBIDDEN = frozenset({"Cc", "Cn", "Cs", "Co"})
# Categories that draw nothing: separators (spaces) and format characters.
_INVISIBLE_PREFIXES = ("Z", "Cf")


def trimmed(value: str, field: str, maximum: int) -> str:
    """The NFC-normalised value without surrounding whitespace; ValidationError unless it is a valid name."""
    text = unicodedata.normalize("NFC", value).strip()
    if any(unicodedata.category(ch) in _FORBIDDEN for ch in text):
        raise _invalid(field, "must not contain control or unassigned characters")
    if not 1 <= len(text) <= maximum:
        raise _invalid(
            field, f"must be 1-{maximum} characters after trimming", f"{field} must be 1-{maximum} characters"
        )
    if all(unicodedata.category(ch).startswith(_INVISIBLE_PREFIXES) for ch in text):
        raise _invalid(field, "must contain at least one visible character")
    return text


def _invalid(field: str, message: str, detail: str | None = None) -> ValidationError:
    return ValidationError(detail or f"{field} {message}", [{"field": field, "message": message}])
