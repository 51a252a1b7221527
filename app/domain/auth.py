"""Who is calling, and the owner-or-admin rule."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from app.domain.users import same_email

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
    # The token's issuer vouches that `email` belongs to the caller (Cognito: email_verified).
    email_verified: bool = False

    @property
    def is_admin(self) -> bool:
        """Admins may act on any resource."""
        return self.role == ADMIN

    def can_act_on(self, owner_id: str) -> bool:
        """True for the owner and for admins."""
        return self.is_admin or self.sub == owner_id

    def require_admin(self) -> None:
        """Raise Forbidden unless the caller is an admin."""
        if not self.is_admin:
            raise Forbidden("only an admin may do this")

    def require_own_email(self, email: str) -> None:
        """Raise Forbidden unless an admin, or the email is the one the caller's token vouches for.

        Without this, anyone could claim another person's address and lock them out (and learn that it exists).
        """
        if self.is_admin:
            return
        if not (self.email_verified and same_email(self.email, email)):
            raise Forbidden("you may only use the email address your token vouches for (its verified email claim)")

    def require_owner_or_admin(self, owner_id: str) -> None:
        """Raise Forbidden unless the caller owns the resource or is an admin."""
        if not self.can_act_on(owner_id):
            raise Forbidden("only the owner or an admin may do this")


def principal_from_claims(claims: Mapping[str, Any], *, verified_claim_required: bool = False) -> Principal:
    """The caller a verified token names; the role comes from `role` or from `cognito:groups`.

    An email counts as vouched for when `email_verified` is true or, for an issuer that only puts verified
    addresses in its tokens (`verified_claim_required=False`), when that claim is absent.
    """
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub:
        raise Unauthenticated("the token names no subject")
    email = claims.get("email") if isinstance(claims.get("email"), str) else None
    flag = claims.get("email_verified", None if verified_claim_required else True)
    # Cognito sends a boolean; some OIDC issuers send the string "true".
    verified = email is not None and (flag is True or flag == "true")
    return Principal(sub=sub, email=email, role=_role(claims), email_verified=verified)


def _role(claims: Mapping[str, Any]) -> str:
    role = claims.get("role")
    if role in (ADMIN, USER):
        return str(role)
    groups = claims.get("cognito:groups")
    # Cognito puts group membership in a list; anything else means "no groups".
    return ADMIN if isinstance(groups, list) and ADMIN in groups else USER
