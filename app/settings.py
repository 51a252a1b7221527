"""Configuration: one Settings class read from the environment and an optional .env file."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every setting of the service; see .env.example for the documentation of each."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    service_name: str = Field("order-service", alias="POWERTOOLS_SERVICE_NAME")
    stage: str = "dev"
    aws_region: str = Field("us-east-1", alias="AWS_REGION")
    aws_endpoint_url: str | None = Field(None, alias="AWS_ENDPOINT_URL")

    users_table: str = "order-service-users-dev"
    user_created_topic_arn: str = "arn:aws:sns:us-east-1:123456789012:order-service-user-created-dev"

    cors_allowed_origins: str = "http://localhost:8000"
    cursor_signing_key: str = Field("local-dev-cursor-key", min_length=16)
    max_body_bytes: int = 1_048_576
    page_size_max: int = 100

    aws_connect_timeout: float = 2.0
    aws_read_timeout: float = 10.0
    aws_max_attempts: int = 3

    @property
    def cors_origins(self) -> list[str]:
        """CORS origins as a list."""
        return [o.strip() for o in self.cors_allowed_origins.split(",") if o.strip()]


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
