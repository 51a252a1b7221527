"""Configuration: one definition of every setting, read once from the environment and an optional .env file.

A small typed reader over the standard library rather than pydantic-settings, which cost each worker 81 to
106 ms of its cold start to read about ten variables (issue 29). Each field names its variable (its name in
capitals unless `env=` says otherwise), its type (from its default, or `parse=`), its bounds and its default.
Variables win over the .env file, names are matched without regard to case, and every problem is reported
at once. In AWS, a secret given in plain text (or left to a development default) refuses to start.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Iterator, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

_TRUE = frozenset({"1", "true", "yes", "on", "t", "y"})
_FALSE = frozenset({"0", "false", "no", "off", "f", "n"})


class SettingsError(ValueError):
    """Settings that cannot be used: every problem, one per line."""


@dataclasses.dataclass(frozen=True)
class Secret:
    """A secret value that never shows in a repr or a log line."""

    value: str = dataclasses.field(repr=False)

    def get_secret_value(self) -> str:
        """The secret itself."""
        return self.value

    def __repr__(self) -> str:
        return "Secret('**********')"


def _boolean(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in _TRUE | _FALSE:
        return lowered in _TRUE
    raise ValueError("must be true or false")


def _integer(text: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise ValueError(f"must be a whole number, got {text!r}") from None


def _number(text: str) -> float:
    try:
        return float(text.strip())
    except ValueError:
        raise ValueError(f"must be a number, got {text!r}") from None


_PARSERS: dict[type, Callable[[str], Any]] = {bool: _boolean, int: _integer, float: _number, str: str}


def setting(
    default: Any,
    *,
    env: str | None = None,
    parse: Callable[[str], Any] | None = None,
    ge: float | None = None,
    le: float | None = None,
    gt: float | None = None,
    min_length: int | None = None,
    choices: tuple[str, ...] | None = None,
) -> Any:
    """A field of Settings and how it is read."""
    rules = {"env": env, "parse": parse, "ge": ge, "le": le, "gt": gt, "min_length": min_length, "choices": choices}
    return dataclasses.field(default=default, metadata=rules)


@dataclasses.dataclass(frozen=True, init=False)
class Settings:
    """Every setting of the service; see .env.example for the documentation of each."""

    stage: str = setting("dev")
    aws_region: str = setting("us-east-1")
    aws_endpoint_url: str | None = setting(None, parse=str)

    users_table: str = setting("order-service-users-dev")
    user_created_topic_arn: str = setting("arn:aws:sns:us-east-1:123456789012:order-service-user-created-dev")

    products_table: str = setting("order-service-products-dev")
    orders_table: str = setting("order-service-orders-dev")
    payments_table: str = setting("order-service-payments-dev")
    idempotency_table: str = setting("order-service-idempotency-dev")
    order_queue_url: str = setting("https://sqs.us-east-1.amazonaws.com/123456789012/order-service-orders-dev")
    order_workflow_arn: str = setting(
        "arn:aws:states:us-east-1:123456789012:stateMachine:order-service-order-workflow-dev"
    )
    # Set (by the template) only for an EXPRESS workflow: a delayed look at each started order.
    order_watch_queue_url: str | None = setting(None, parse=str)
    # An order still unfinished this long after its workflow started has no execution left (Express stops at 300 s).
    workflow_unfinished_seconds: int = setting(360, ge=1)
    event_bus_name: str = setting("order-service-events-dev")
    payment_limit_minor: int = setting(100_000, ge=1)
    analytics_table: str = setting("order-service-analytics-dev")
    notification_topic_arn: str = setting("arn:aws:sns:us-east-1:123456789012:order-service-notifications-dev")
    low_stock_threshold: int = setting(5, ge=1)
    cleanup_requeue_after_minutes: int = setting(15, ge=1)
    cleanup_expire_after_hours: int = setting(24, ge=1)
    cleanup_page_size: int = setting(100, ge=1, le=1000)

    imports_bucket: str = setting("order-service-imports-123456789012-dev")
    imports_table: str = setting("order-service-imports-dev")
    import_continue_queue_url: str = setting(
        "https://sqs.us-east-1.amazonaws.com/123456789012/order-service-import-continue-dev"
    )
    import_max_bytes: int = setting(50 * 1024 * 1024, ge=1)
    import_url_ttl_seconds: int = setting(900, ge=60, le=7 * 24 * 3600)
    import_reserve_ms: int = setting(30_000, ge=0)
    import_chunk_rows: int = setting(99, ge=1, le=99)

    cors_allowed_origins: str = setting("http://localhost:8000")
    # Secret-like settings: in AWS each comes from Secrets Manager (a *_SECRET_ID the template generates);
    # the plain values are for local development only, and the dev fallback never leaves this machine.
    cursor_signing_key: Secret | None = setting(None, parse=Secret, min_length=16)
    cursor_key_secret_id: str | None = setting(None, parse=str)
    max_body_bytes: int = setting(1_048_576)

    auth_mode: str = setting("secret", choices=("secret", "cognito"))
    jwt_secret: Secret | None = setting(None, parse=Secret)
    jwt_secret_id: str | None = setting(None, parse=str)
    jwt_secret_max_age: int = setting(300, ge=0)
    jwt_issuer: str = setting("order-service", min_length=1)
    jwt_audience: str = setting("order-service", min_length=1)
    jwt_leeway_seconds: int = setting(30, ge=0, le=300)
    # Behind API Gateway, the edge authorizer's verified caller is used instead of verifying the token again
    # (docs/decisions/0007-trust-the-edge-authorizer.md). Only the template sets it, for ApiFunction.
    trust_gateway_authorizer: bool = setting(False)
    jwks_url: str | None = setting(None, parse=str)
    jwks_min_refetch_seconds: float = setting(60.0, ge=0)
    jwks_max_age_seconds: float = setting(300.0, ge=0)
    jwks_timeout: float = setting(3.0, gt=0)

    import_stall_minutes: int = setting(60, ge=1)

    aws_lambda_function_name: str | None = setting(None, parse=str)

    aws_connect_timeout: float = setting(2.0)
    aws_read_timeout: float = setting(10.0)
    aws_max_attempts: int = setting(3)

    def __init__(
        self, _env_file: str | Path | None = ".env", _environ: Mapping[str, str] | None = None, **given: Any
    ) -> None:
        """Read every setting: `given` (by field or variable name) over the environment over the .env file."""
        source = {**_dotenv(_env_file), **(os.environ if _environ is None else _environ)}
        upper = {key.upper(): value for key, value in source.items()}
        named = {key.upper(): value for key, value in given.items()}
        unknown = set(named) - {f.name.upper() for f in _FIELDS} - {env_name(f) for f in _FIELDS}
        problems = [f"{name.lower()}: not a setting" for name in sorted(unknown)]
        for spec in _FIELDS:
            raw = named.get(spec.name.upper(), named.get(env_name(spec), upper.get(env_name(spec), spec.default)))
            try:
                object.__setattr__(self, spec.name, _checked(spec, raw))
            except (TypeError, ValueError) as exc:
                problems.append(f"{env_name(spec)}: {exc}")
        problems += list(self._secret_problems()) if not problems else []
        if problems:
            raise SettingsError("invalid settings:\n  " + "\n  ".join(problems))

    def _secret_problems(self) -> Iterator[str]:
        """In AWS, a secret given in plain text or left to a development default."""
        if not self.in_aws:
            return
        if self.jwt_secret is not None:
            yield "JWT_SECRET must not be set in AWS: give JWT_SECRET_ID (Secrets Manager) instead"
        if self.cursor_signing_key is not None:
            yield "CURSOR_SIGNING_KEY must not be set in AWS: give CURSOR_KEY_SECRET_ID instead"

    @classmethod
    def variables(cls) -> dict[str, str]:
        """Every setting's field name and the variable it is read from."""
        return {spec.name: env_name(spec) for spec in _FIELDS}

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


_FIELDS = dataclasses.fields(Settings)


def env_name(spec: dataclasses.Field[Any]) -> str:
    """The variable a field is read from."""
    return str(spec.metadata.get("env") or spec.name.upper())


def _checked(spec: dataclasses.Field[Any], raw: Any) -> Any:
    """The field's value from what was given (text is parsed), within its rules."""
    rules = spec.metadata
    if raw is None:
        return None
    parse = rules.get("parse") or _PARSERS[type(spec.default)]
    value = parse(raw) if isinstance(raw, str) else (Secret(str(raw)) if parse is Secret else raw)
    if parse is Secret and not isinstance(value, Secret):
        value = Secret(str(value))
    _within(rules, value)
    return value


_BOUNDS = (("ge", "at least"), ("le", "at most"), ("gt", "more than"))
_BOUND_HOLDS: dict[str, Callable[[Any, Any], bool]] = {
    "ge": lambda value, bound: bool(value >= bound),
    "le": lambda value, bound: bool(value <= bound),
    "gt": lambda value, bound: bool(value > bound),
}


def _within(rules: Mapping[str, Any], value: Any) -> None:
    text = value.get_secret_value() if isinstance(value, Secret) else value
    if rules.get("choices") and text not in rules["choices"]:
        raise ValueError(f"must be one of {', '.join(rules['choices'])}")
    if rules.get("min_length") is not None and len(text) < rules["min_length"]:
        raise ValueError(f"must be at least {rules['min_length']} characters")
    for key, words in _BOUNDS:
        bound = rules.get(key)
        if bound is not None and not _BOUND_HOLDS[key](text, bound):
            raise ValueError(f"must be {words} {bound}")


def _dotenv(path: str | Path | None) -> dict[str, str]:
    """KEY=value lines of a local .env file (comments, `export` and quotes allowed); none in AWS."""
    if path is None or not Path(path).is_file():
        return {}
    found: dict[str, str] = {}
    for line in Path(path).read_text().splitlines():
        text = line.strip().removeprefix("export ").strip()
        if not text or text.startswith("#") or "=" not in text:
            continue
        key, _, value = text.partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        found[key.strip()] = value
    return found


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
