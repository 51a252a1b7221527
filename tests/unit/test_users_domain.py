from __future__ import annotations

from datetime import UTC, datetime

import pytest

from app.domain.errors import ValidationError
from app.domain.users import User, normalise_email, normalise_name


def test_name_is_trimmed_and_bounded() -> None:
    assert normalise_name("  Ada  ") == "Ada"
    assert normalise_name("x" * 100) == "x" * 100
    for bad in ["", "   ", "x" * 101]:
        with pytest.raises(ValidationError) as info:
            normalise_name(bad)
        assert info.value.errors[0]["field"] == "name"


def test_email_is_lower_cased_and_checked() -> None:
    assert normalise_email(" Ada@Example.COM ") == "ada@example.com"
    for bad in ["no-at-sign", "a@b", "a b@c.d", "@x.io", "a@" + "x" * 260 + ".io"]:
        with pytest.raises(ValidationError):
            normalise_email(bad)


def test_renamed_bumps_version_and_keeps_identity() -> None:
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    t1 = datetime(2026, 1, 2, tzinfo=UTC)
    user = User("u1", "Ada", "ada@example.com", t0, t0)
    changed = user.renamed(None, "ADA@new.io", t1)
    assert (changed.id, changed.name, changed.email, changed.version) == ("u1", "Ada", "ada@new.io", 2)
    assert changed.created_at == t0
    assert changed.updated_at == t1
