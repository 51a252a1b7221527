"""Contract tests use the integration fixtures (local cloud, tokens signed with its secret)."""

from __future__ import annotations

from tests.integration.conftest import auth

__all__ = ["auth"]
