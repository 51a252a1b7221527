"""The User entity and its rules."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime

from app.domain.errors import ValidationError
from app.domain.text import trimmed

NAME_MAX = 100
EMAIL_MAX = 254
# The one grammar of an address (docs/decisions/0011-email-normalisation.md): ASCII only, so that no two
# addresses that look alike are two accounts. A dot-atom local part (RFC 5322 atext) and a domain of DNS
# labels, an international one in its xn-- form. The API's schema publishes this pattern as it is.
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_TOP_LABEL = r"[A-Za-z](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
EMAIL_PATTERN = rf"^{_ATEXT}(?:\.{_ATEXT})*@(?:{_LABEL}\.)+{_TOP_LABEL}$"
_EMAIL = re.compile(EMAIL_PATTERN)


@dataclass(frozen=True)
class User:
    """A registered user."""

    id: str
    name: str
    email: str
    created_at: datetime
    updated_at: datetime
    version: int = 1

    def renamed(self, name: str | None, email: str | None, now: datetime) -> User:
        """A copy with a new name and/or email, one version later."""
        return replace(
            self,
            name=normalise_name(name) if name is not None else self.name,
            email=normalise_email(email) if email is not None else self.email,
            updated_at=now,
            version=self.version + 1,
        )


def normalise_name(name: str) -> str:
    """Trim a name and check its length."""
    return trimmed(name, "name", NAME_MAX)


def normalise_email(email: str) -> str:
    """The address as the service stores and compares it: trimmed, ASCII, lower-cased; ValidationError if not one."""
    text = email.strip()
    if not text.isascii():
        # A fullwidth c (U+FF43) or a Cyrillic es (U+0441) draws like 'c': such an address would be a second
        # account that looks like the first. NFKC folds the fullwidth letter but not the Cyrillic one.
        raise _bad_email("must be ASCII (an international domain in its xn-- form)")
    if len(text) > EMAIL_MAX or not _EMAIL.fullmatch(text):
        raise _bad_email("is not a valid email address")
    return text.lower()


def same_email(one: str | None, other: str | None) -> bool:
    """Whether two addresses are one account's: equal once normalised (an invalid one matches nothing)."""
    try:
        return one is not None and other is not None and normalise_email(one) == normalise_email(other)
    except ValidationError:
        return False


def _bad_email(message: str) -> ValidationError:
    return ValidationError("email is not valid", [{"field": "email", "message": message}])
