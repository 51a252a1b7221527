"""The one place that builds AWS clients, adapters and services from Settings."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cached_property, lru_cache
from typing import Any

from app.adapters.dynamo_users import DynamoUserRepository
from app.adapters.health import DynamoTableProbe, SnsTopicProbe
from app.adapters.sns import SnsPublisher
from app.bootstrap_auth import token_verifier
from app.bootstrap_orders import OrderServices
from app.services.cursor import CursorCodec
from app.services.health import HealthReport, check_health
from app.services.tokens import TokenVerifier
from app.services.users import UserService
from app.settings import Settings, get_settings


def utc_now() -> datetime:
    """The current time in UTC."""
    return datetime.now(UTC)


class Container(OrderServices):
    """Clients and services, each built on first use and then reused (warm Lambda)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def client(self, service: str) -> Any:
        """A boto3 client with the service's timeouts and retry policy."""
        import boto3  # deferred: only code paths that talk to AWS pay for botocore
        from botocore.config import Config

        config = Config(
            connect_timeout=self.settings.aws_connect_timeout,
            read_timeout=self.settings.aws_read_timeout,
            retries={"mode": "standard", "max_attempts": self.settings.aws_max_attempts},
        )
        session: Any = boto3.session.Session()
        return session.client(service, region_name=self.settings.aws_region, config=config)

    @cached_property
    def dynamodb(self) -> Any:
        """The DynamoDB client."""
        return self.client("dynamodb")

    @cached_property
    def sns(self) -> Any:
        """The SNS client."""
        return self.client("sns")

    @cached_property
    def users(self) -> UserService:
        """The user use cases."""
        s = self.settings
        return UserService(
            repo=DynamoUserRepository(self.dynamodb, s.users_table),
            publisher=SnsPublisher(self.sns),
            clock=utc_now,
            cursors=CursorCodec(s.cursor_signing_key, "users"),
            user_created_topic=s.user_created_topic_arn,
        )

    @cached_property
    def tokens(self) -> TokenVerifier:
        """The bearer token verifier (its secret and JWKS caches live as long as the container)."""
        return token_verifier(self.settings)

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
