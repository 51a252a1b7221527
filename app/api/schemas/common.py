"""What every body and parameter shares: the id pattern, the name rule and the page limit."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query
from pydantic import AfterValidator, Field, StringConstraints

from app.domain.errors import ValidationError
from app.domain.text import NAME_PATTERN, trimmed
from app.domain.users import EMAIL_MAX, EMAIL_PATTERN, normalise_email
from app.services.ports.common import PAGE_LIMIT

# The schema of a display name publishes the domain's pattern (app/domain/text.py); lengths are of what is sent.
NAME_SCHEMA = Field(json_schema_extra={"pattern": NAME_PATTERN})


def name_rule(maximum: int) -> AfterValidator:
    """The domain's one name rule (NFC, no control characters, something visible) as a pydantic validator."""

    def check(value: str) -> str:
        try:
            return trimmed(value, "name", maximum)
        except ValidationError as exc:
            raise ValueError(exc.errors[0]["message"] if exc.errors else exc.detail) from None

    return AfterValidator(check)


def _email(value: str) -> str:
    try:
        return normalise_email(value)
    except ValidationError as exc:
        raise ValueError(exc.errors[0]["message"] if exc.errors else exc.detail) from None


# The domain's one email rule: the schema states its pattern, so a client knows what is accepted before asking.
Email = Annotated[
    str,
    StringConstraints(max_length=EMAIL_MAX, pattern=EMAIL_PATTERN),
    AfterValidator(_email),
]

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"

Limit = Annotated[int, Query(ge=1, le=PAGE_LIMIT, description=f"Items per page, 1-{PAGE_LIMIT}")]
Cursor = Annotated[str | None, Query(max_length=2048, description="The `nextCursor` of the previous page")]
