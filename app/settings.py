"""Configuration: one Settings class read from the environment and an optional .env file."""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every setting of the service; see .env.example for the documentation of each."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    stage: str = "dev"
    aws_region: str = Field("us-east-1", alias="AWS_REGION")
    aws_endpoint_url: str | None = Field(None, alias="AWS_ENDPOINT_URL")

    users_table: str = "order-service-users-dev"
    user_created_topic_arn: str = "arn:aws:sns:us-east-1:123456789012:order-service-user-created-dev"

    products_table: str = "order-service-products-dev"
    orders_table: str = "order-service-orders-dev"
    payments_table: str = "order-service-payments-dev"
    idempotency_table: str = "order-service-idempotency-dev"
    order_queue_url: str = "https://sqs.us-east-1.amazonaws.com/123456789012/order-service-orders-dev"
    order_workflow_arn: str = "arn:aws:states:us-east-1:123456789012:stateMachine:order-service-order-workflow-dev"
    # Set (by the template) only for an EXPRESS workflow: a delayed look at each started order.
    order_watch_queue_url: str | None = None
    # An order still unfinished this long after its workflow started has no execution left (Express stops at 300 s).
    workflow_unfinished_seconds: int = Field(360, ge=1)
    event_bus_name: str = "order-service-events-dev"
    payment_limit_minor: int = Field(100_000, ge=1)
    analytics_table: str = "order-service-analytics-dev"
    notification_topic_arn: str = "arn:aws:sns:us-east-1:123456789012:order-service-notifications-dev"
    low_stock_threshold: int = Field(5, ge=1)
    cleanup_requeue_after_minutes: int = Field(15, ge=1)
    cleanup_expire_after_hours: int = Field(24, ge=1)
    cleanup_page_size: int = Field(100, ge=1, le=1000)

    imports_bucket: str = "order-service-imports-123456789012-dev"
    imports_table: str = "order-service-imports-dev"
    import_continue_queue_url: str = (
        "https://sqs.us-east-1.amazonaws.com/123456789012/order-service-import-continue-dev"
    )
    import_max_bytes: int = Field(50 * 1024 * 1024, ge=1)
    import_url_ttl_seconds: int = Field(900, ge=60, le=7 * 24 * 3600)
    import_reserve_ms: int = Field(30_000, ge=0)
    import_chunk_rows: int = Field(99, ge=1, le=99)

    cors_allowed_origins: str = "http://localhost:8000"
    # Secret-like settings: in AWS each comes from Secrets Manager (a *_SECRET_ID the template generates);
    # the plain values are for local development only, and the dev fallback never leaves this machine.
    cursor_signing_key: SecretStr | None = Field(None, min_length=16)
    cursor_key_secret_id: str | None = None
    max_body_bytes: int = 1_048_576

    auth_mode: Literal["secret", "cognito"] = Field("secret", alias="AUTH_MODE")
    jwt_secret: SecretStr | None = Field(None, alias="JWT_SECRET")
    jwt_secret_id: str | None = Field(None, alias="JWT_SECRET_ID")
    jwt_secret_max_age: int = Field(300, ge=0, alias="JWT_SECRET_MAX_AGE")
    jwt_issuer: str = Field("order-service", min_length=1, alias="JWT_ISSUER")
    jwt_audience: str = Field("order-service", min_length=1, alias="JWT_AUDIENCE")
    jwt_leeway_seconds: int = Field(30, ge=0, le=300, alias="JWT_LEEWAY_SECONDS")
    # Behind API Gateway, the edge authorizer's verified caller is used instead of verifying the token again
    # (docs/decisions/0007-trust-the-edge-authorizer.md). Only the template sets it, for ApiFunction.
    trust_gateway_authorizer: bool = Field(False, alias="TRUST_GATEWAY_AUTHORIZER")
    jwks_url: str | None = Field(None, alias="JWKS_URL")
    jwks_min_refetch_seconds: float = Field(60.0, ge=0, alias="JWKS_MIN_REFETCH_SECONDS")
    jwks_max_age_seconds: float = Field(300.0, ge=0, alias="JWKS_MAX_AGE_SECONDS")
    jwks_timeout: float = Field(3.0, gt=0, alias="JWKS_TIMEOUT")

    import_stall_minutes: int = Field(60, ge=1)

    aws_lambda_function_name: str | None = Field(None, alias="AWS_LAMBDA_FUNCTION_NAME")

    aws_connect_timeout: float = 2.0
    aws_read_timeout: float = 10.0
    aws_max_attempts: int = 3

    @model_validator(mode="after")
    def _no_plain_secrets_in_aws(self) -> Settings:
        """In AWS, refuse to start with a secret given in plain text or left to a development default."""
        if not self.in_aws:
            return self
        if self.jwt_secret is not None:
            raise ValueError("JWT_SECRET must not be set in AWS: give JWT_SECRET_ID (Secrets Manager) instead")
        if self.cursor_signing_key is not None:
            raise ValueError("CURSOR_SIGNING_KEY must not be set in AWS: give CURSOR_KEY_SECRET_ID instead")
        return self

    @property
    def in_aws(self) -> bool:
        """Running in a real Lambda environment: in Lambda, and not pointed at the local cloud."""
        return bool(self.aws_lambda_function_name) and not self.aws_endpoint_url

    @property
    def jwks_endpoint(self) -> str:
        """Where the issuer publishes its signing keys."""
        return self.jwks_url or f"{self.jwt_issuer.rstrip('/')}/.well-known/jwks.json"

    @property
    def cors_origins(self) -> list[str]:
        """CORS origins as a list."""
        return [o.strip() for o in self.cors_allowed_origins.split(",") if o.strip()]


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
