"""The settings reader: one definition, typed, bounded, read from the environment over a .env file."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.settings import Secret, Settings, SettingsError


def test_each_field_is_read_from_its_variable_without_regard_to_case() -> None:
    settings = Settings(
        _env_file=None,
        _environ={
            "USERS_TABLE": "u",
            "trust_gateway_authorizer": "yes",
            "JWKS_TIMEOUT": "2.5",
            "AWS_MAX_ATTEMPTS": "5",
        },
    )
    assert (settings.users_table, settings.trust_gateway_authorizer) == ("u", True)
    assert (settings.jwks_timeout, settings.aws_max_attempts) == (2.5, 5)
    assert settings.orders_table == "order-service-orders-dev"  # the default


def test_the_environment_wins_over_the_env_file_and_given_values_over_both(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("# local\nexport USERS_TABLE='from-file'\nORDERS_TABLE=\"file-orders\"\nSTAGE=file\n")
    settings = Settings(_env_file=env_file, _environ={"USERS_TABLE": "from-env"}, STAGE="given")
    assert (settings.users_table, settings.orders_table, settings.stage) == ("from-env", "file-orders", "given")


def test_every_problem_is_reported_at_once_by_its_variable() -> None:
    bad = {"CLEANUP_PAGE_SIZE": "0", "AUTH_MODE": "ldap", "JWT_LEEWAY_SECONDS": "ten", "JWKS_TIMEOUT": "0"}
    with pytest.raises(SettingsError) as raised:
        Settings(_env_file=None, _environ=bad)
    lines = str(raised.value).splitlines()[1:]
    assert [line.split(":")[0].strip() for line in lines] == [
        "CLEANUP_PAGE_SIZE",
        "AUTH_MODE",
        "JWT_LEEWAY_SECONDS",
        "JWKS_TIMEOUT",
    ]


@pytest.mark.parametrize("text", ["maybe", "2", ""])
def test_a_flag_is_true_or_false_and_nothing_else(text: str) -> None:
    with pytest.raises(SettingsError, match="TRUST_GATEWAY_AUTHORIZER: must be true or false"):
        Settings(_env_file=None, _environ={"TRUST_GATEWAY_AUTHORIZER": text})


def test_an_unknown_given_name_is_refused() -> None:
    with pytest.raises(SettingsError, match="user_table: not a setting"):
        Settings(_env_file=None, _environ={}, user_table="typo")


def test_a_secret_never_shows_and_is_bounded() -> None:
    settings = Settings(_env_file=None, _environ={"CURSOR_SIGNING_KEY": "k" * 32, "JWT_SECRET": "s" * 40})
    assert isinstance(settings.jwt_secret, Secret)
    assert settings.jwt_secret.get_secret_value() == "s" * 40
    assert "s" * 40 not in repr(settings)
    with pytest.raises(SettingsError, match="CURSOR_SIGNING_KEY: must be at least 16") as raised:
        Settings(_env_file=None, _environ={"CURSOR_SIGNING_KEY": "short-secret"})
    assert "short-secret" not in str(raised.value)


def test_in_aws_a_plain_secret_refuses_to_start_and_locally_it_is_allowed() -> None:
    in_lambda = {"AWS_LAMBDA_FUNCTION_NAME": "api", "JWT_SECRET": "x" * 40}
    with pytest.raises(SettingsError, match="JWT_SECRET must not be set in AWS"):
        Settings(_env_file=None, _environ=in_lambda)
    local = Settings(_env_file=None, _environ={**in_lambda, "AWS_ENDPOINT_URL": "http://127.0.0.1:4566"})
    assert not local.in_aws


def test_settings_are_frozen() -> None:
    settings = Settings(_env_file=None, _environ={})
    with pytest.raises(AttributeError):
        settings.stage = "prod"  # type: ignore[misc]
