"""Authentication against the local cloud: the provisioned secret, `make token`, the authorizer, and 503s."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from fastapi.testclient import TestClient

from app.settings import get_settings
from infra.local.cloud import free_port
from infra.local.env import function_env
from infra.local.payloads import LambdaContext, rest_token_authorizer
from infra.local.provision import client as aws
from infra.local.template import Stack
from tests.support.tokens import Signer
from workers import authorizer


def make_token(aws_port: int | str, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "infra.local", "token", "--aws-port", str(aws_port), *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, env=env or dict(os.environ), check=False)


def test_without_a_token_is_401_and_make_token_gives_200(client: TestClient, stack: Stack) -> None:
    missing = client.get("/users/ada")
    assert missing.status_code == 401
    assert missing.headers["www-authenticate"] == 'Bearer error="invalid_token"'
    assert missing.headers["content-type"] == "application/problem+json"
    port = stack.endpoint.rsplit(":", 1)[1]
    done = make_token(port, "--sub", "ada", "--role", "user", "--email", "ada@example.com")
    assert done.returncode == 0, done.stderr
    headers = {"authorization": f"Bearer {done.stdout.strip()}"}
    created = client.post("/users", json={"name": "Ada", "email": "ada@example.com"}, headers=headers)
    assert created.status_code == 201
    assert client.get("/users/ada", headers=headers).status_code == 200
    assert client.get("/users", headers=headers).status_code == 403
    admin = make_token(port, "--sub", "root", "--role", "admin")
    assert client.get("/users", headers={"authorization": f"Bearer {admin.stdout.strip()}"}).status_code == 200


def test_make_token_falls_back_to_jwt_secret_and_explains_when_there_is_none() -> None:
    env = {k: v for k, v in os.environ.items() if k != "JWT_SECRET"}
    down = free_port()
    missing = make_token(down, env=env)
    assert missing.returncode == 2
    assert "make run" in missing.stderr
    fallback = make_token(down, "--sub", "x", env={**env, "JWT_SECRET": "fallback-secret-0123456789abcdef"})
    assert fallback.returncode == 0
    assert fallback.stdout.count(".") == 2


def test_unreadable_secret_is_503_not_500(client: TestClient, stack: Stack, auth: Signer) -> None:
    aws(stack, "secretsmanager").delete_secret(SecretId=stack.name("JwtSecret"), ForceDeleteWithoutRecovery=True)
    response = client.get("/users/ada", headers=auth.user("ada"))
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["retry-after"]


def test_authorizer_reads_the_secret_from_secrets_manager(
    stack: Stack, auth: Signer, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, value in function_env(stack, "AuthorizerFunction").items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("JWT_SECRET", raising=False)
    get_settings.cache_clear()
    authorizer.verifier.cache_clear()
    try:
        event = rest_token_authorizer(auth.admin()["authorization"])
        assert authorizer.handler(event, LambdaContext())["context"]["role"] == "admin"
        with pytest.raises(Exception, match=r"^Unauthorized$"):
            authorizer.handler(rest_token_authorizer(Signer("w" * 40).admin()["authorization"]), LambdaContext())
    finally:
        get_settings.cache_clear()
        authorizer.verifier.cache_clear()


def test_secret_and_its_access_match_the_template(stack: Stack) -> None:
    name = stack.name("JwtSecret")
    value = aws(stack, "secretsmanager").get_secret_value(SecretId=name)["SecretString"]
    assert len(value) == 64
    assert value.isalnum()
    for logical in ("ApiFunction", "AuthorizerFunction"):
        env = function_env(stack, logical)
        assert env["JWT_SECRET_ID"] == name
        assert env["AUTH_MODE"] == "secret"
    functions = stack.of_type("AWS::Serverless::Function")
    readers = {}
    for logical, resource in functions.items():
        statements = [s for p in resource["Properties"].get("Policies", []) for s in p.get("Statement", [])]
        granted = [s for s in statements if "secretsmanager" in str(s.get("Action"))]
        if granted:
            readers[logical] = [(s["Action"], stack.resolve(s["Resource"])) for s in granted]
    cursor_key = stack.name("CursorSigningSecret")
    assert len(aws(stack, "secretsmanager").get_secret_value(SecretId=cursor_key)["SecretString"]) == 64
    assert readers == {
        "ApiFunction": [("secretsmanager:GetSecretValue", [name, cursor_key])],
        "AuthorizerFunction": [("secretsmanager:GetSecretValue", name)],
    }
