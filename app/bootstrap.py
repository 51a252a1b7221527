"""The one place that builds AWS clients, adapters and services from Settings."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cached_property, lru_cache
from typing import Any

from app.adapters.health import DynamoTableProbe, SnsTopicProbe
from app.adapters.sns import SnsPublisher
from app.bootstrap_auth import token_verifier
from app.bootstrap_aws import LazyClient
from app.bootstrap_orders import WorkerContainer
from app.services.cursor import CursorCodec
from app.services.health import HealthReport, check_health
from app.services.tokens import TokenVerifier
from app.services.users import UserService
from app.settings import get_settings


def utc_now() -> datetime:
    """The current time in UTC."""
    return datetime.now(UTC)


class Container(WorkerContainer):
    """The workers' services plus the API's own (users, tokens, health), each built on first use."""

    @cached_property
    def sns(self) -> Any:
        """The SNS client."""
        return self.client("sns")

    @cached_property
    def users(self) -> UserService:
        """The user use cases."""
        s = self.settings
        return UserService(
            repo=self.user_repo,
            # Lazy: only a create publishes, and reads should not pay for an SNS client.
            publisher=SnsPublisher(LazyClient(lambda: self.sns)),
            clock=utc_now,
            cursors=CursorCodec(self.cursor_key, "users"),
            user_created_topic=s.user_created_topic_arn,
        )

    @cached_property
    def tokens(self) -> TokenVerifier:
        """The bearer token verifier (its secret and JWKS caches live as long as the container)."""
        return token_verifier(self.settings, self.clients)

    def health(self) -> HealthReport:
        """Status of the backing services."""
        s = self.settings
        return check_health(
            critical=[DynamoTableProbe(self.dynamodb, s.users_table)],
            optional=[SnsTopicProbe(self.sns, s.user_created_topic_arn)],
        )


@lru_cache
def get_container() -> Container:
    """The process-wide container."""
    return Container(get_settings())
