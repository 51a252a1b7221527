"""No function starts in AWS with a secret in plain text or a development default."""

from __future__ import annotations

from typing import Any

import pytest

from app.settings import Settings, SettingsError
from tests.support.template_walk import of_type, props, stack, template

FUNCTIONS = of_type(template(), "AWS::Serverless::Function")
SECRET_WORDS = ("SECRET", "KEY", "TOKEN", "PASSWORD")


def deployed_env(logical_id: str, stage: str) -> dict[str, str]:
    """The variables a function gets in AWS: Globals and its own, resolved, plus what Lambda sets."""
    bound = stack(stage)
    tpl = bound.template
    variables = {**tpl["Globals"]["Function"]["Environment"]["Variables"]}
    variables.update(props(tpl["Resources"][logical_id]).get("Environment", {}).get("Variables", {}))
    resolved = bound.resolve(variables)
    return {**{k: str(v) for k, v in resolved.items() if v is not None}, "AWS_LAMBDA_FUNCTION_NAME": logical_id}


def settings_from(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Settings:
    for key in ("AWS_ENDPOINT_URL", "JWT_SECRET", "CURSOR_SIGNING_KEY", "CURSOR_KEY_SECRET_ID", "JWT_SECRET_ID"):
        monkeypatch.delenv(key, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return Settings(_env_file=None)


@pytest.mark.parametrize("stage", ["dev", "prod"])
@pytest.mark.parametrize("logical_id", sorted(FUNCTIONS))
def test_every_function_starts_with_its_template_environment(
    logical_id: str, stage: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = settings_from(deployed_env(logical_id, stage), monkeypatch)
    assert settings.in_aws
    assert settings.jwt_secret is None
    assert settings.cursor_signing_key is None


@pytest.mark.parametrize("logical_id", sorted(FUNCTIONS))
def test_secret_like_variables_only_name_generated_secrets(logical_id: str) -> None:
    secrets = of_type(template(), "AWS::SecretsManager::Secret")
    variables: dict[str, Any] = props(FUNCTIONS[logical_id]).get("Environment", {}).get("Variables", {})
    for name, value in variables.items():
        if any(word in name for word in SECRET_WORDS):
            assert name.endswith("_SECRET_ID"), f"{logical_id}.{name} must name a Secrets Manager secret"
            assert isinstance(value, dict), f"{logical_id}.{name} must reference a secret of the template"
            assert value.get("Ref") in secrets
            assert "GenerateSecretString" in props(secrets[value["Ref"]]), "a generated value, never a literal"


def test_the_api_signs_cursors_with_a_generated_secret() -> None:
    env = props(FUNCTIONS["ApiFunction"])["Environment"]["Variables"]
    assert env["CURSOR_KEY_SECRET_ID"] == {"Ref": "CursorSigningSecret"}


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"JWT_SECRET": "x" * 40}, "JWT_SECRET must not be set in AWS"),
        ({"CURSOR_SIGNING_KEY": "y" * 40}, "CURSOR_SIGNING_KEY must not be set in AWS"),
    ],
)
def test_in_aws_a_plain_or_missing_secret_refuses_to_start(
    extra: dict[str, str], message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = {**deployed_env("ApiFunction", "prod"), **extra}
    with pytest.raises(SettingsError, match=message):
        settings_from(env, monkeypatch)


def test_locally_the_development_values_are_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    env = {**deployed_env("ApiFunction", "dev"), "JWT_SECRET": "x" * 40, "AWS_ENDPOINT_URL": "http://127.0.0.1:4566"}
    assert not settings_from(env, monkeypatch).in_aws
