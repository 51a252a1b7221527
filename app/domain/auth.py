"""Who is calling, and the owner-or-admin rule."""

from __future__ import annotations

from dataclasses import dataclass

ADMIN = "admin"
USER = "user"


class Unauthenticated(Exception):
    """The caller presented no valid credentials (HTTP 401)."""

    def __init__(self, detail: str = "invalid or missing bearer token") -> None:
        super().__init__(detail)
        self.detail = detail


class Forbidden(Exception):
    """The caller is known but may not do this (HTTP 403)."""

    def __init__(self, detail: str = "not allowed") -> None:
        super().__init__(detail)
        self.detail = detail


@dataclass(frozen=True)
class Principal:
    """An authenticated caller."""

    sub: str
    email: str | None = None
    role: str = USER

    @property
    def is_admin(self) -> bool:
        """Admins may act on any resource."""
        return self.role == ADMIN

    def can_act_on(self, owner_id: str) -> bool:
        """True for the owner and for admins."""
        return self.is_admin or self.sub == owner_id

    def require_owner_or_admin(self, owner_id: str) -> None:
        """Raise Forbidden unless the caller owns the resource or is an admin."""
        if not self.can_act_on(owner_id):
            raise Forbidden("only the owner or an admin may do this")
