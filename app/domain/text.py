"""Shared rules for free-text fields: one rule for every display name (users, products, CSV imports)."""

from __future__ import annotations

import re
import unicodedata

from app.domain.errors import ValidationError

# One rule for every display name, written as the pattern the OpenAPI document publishes, so that what a
# client may send and what is accepted are the same. Forbidden anywhere: control characters (Cc: NUL, CR/LF,
# ESC...); a lone surrogate never gets this far (JSON and UTF-8 refuse it). A name needs one character that
# draws something: not only spaces (Z*) and format characters (Cf: zero-width space, bidi marks), which stay
# allowed next to visible ones (joiners in emoji). Fixed ranges of the Basic Multilingual Plane rather than
# the runtime's Unicode tables: a name is judged the same under every Python (unassigned code points, which
# newer Unicode versions assign, are accepted).
_FORBIDDEN = "\\u0000-\\u001f\\u007f-\\u009f"
_INVISIBLE = (
    "\\u0020\\u00a0\\u00ad\\u0600-\\u0605\\u061c\\u06dd\\u070f\\u0890-\\u0891\\u08e2\\u1680\\u180e"
    "\\u2000-\\u200f\\u2028-\\u202f\\u205f-\\u2064\\u2066-\\u206f\\u3000\\ufeff\\ufff9-\\ufffb"
)
NAME_PATTERN = f"^[^{_FORBIDDEN}]*[^{_FORBIDDEN}{_INVISIBLE}][^{_FORBIDDEN}]*$"
_CONTROL = re.compile(f"[{_FORBIDDEN}]")
_NAME = re.compile(NAME_PATTERN)


def trimmed(value: str, field: str, maximum: int) -> str:
    """The NFC-normalised value without surrounding whitespace; ValidationError unless it is a valid name."""
    if _CONTROL.search(value):  # judged before trimming, as the pattern judges what is sent
        raise _invalid(field, "must not contain control characters")
    text = unicodedata.normalize("NFC", value).strip()
    if not 1 <= len(text) <= maximum:
        raise _invalid(
            field, f"must be 1-{maximum} characters after trimming", f"{field} must be 1-{maximum} characters"
        )
    if not _NAME.fullmatch(text):
        raise _invalid(field, "must contain at least one visible character")
    return text


def _invalid(field: str, message: str, detail: str | None = None) -> ValidationError:
    return ValidationError(detail or f"{field} {message}", [{"field": field, "message": message}])
