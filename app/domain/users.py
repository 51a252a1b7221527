"""The User entity and its rules."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime

from app.domain.errors import ValidationError
from app.domain.text import trimmed

NAME_MAX = 100
EMAIL_MAX = 254
# A deliberately plain check: the API layer validates with email-validator first;
# this guards the invariant for callers that bypass it (workers, imports).
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


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
    """Lower-case an email address and check its shape."""
    lowered = email.strip().lower()
    if len(lowered) > EMAIL_MAX or not _EMAIL.fullmatch(lowered):
        raise ValidationError("email is not valid", [{"field": "email", "message": "is not a valid email address"}])
    return lowered
