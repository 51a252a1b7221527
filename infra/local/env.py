"""Environment variables a function sees locally: the template's, plus the local endpoint."""

from __future__ import annotations

from typing import Any

from infra.local.template import Stack

UA_APP_ID = "AWS_SDK_UA_APP_ID"
LOCAL_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
}


def cloud_env(stack: Stack) -> dict[str, str]:
    """Variables that point boto3 at the local cloud."""
    return {
        **LOCAL_CREDENTIALS,
        "AWS_ENDPOINT_URL": stack.endpoint,
        "AWS_REGION": stack.region,
        "AWS_DEFAULT_REGION": stack.region,
    }


def function_env(stack: Stack, logical_id: str) -> dict[str, str]:
    """Globals plus the function's own variables, resolved, plus the local cloud's."""
    globals_env = stack.template.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {})
    props: dict[str, Any] = stack.resources[logical_id].get("Properties", {})
    own = props.get("Environment", {}).get("Variables", {})
    resolved = stack.resolve({**globals_env, **own})
    env = {k: _as_env(v) for k, v in resolved.items() if v is not None}
    # botocore adds `app/<id>` to its User-Agent: the local cloud attributes each call to its function.
    return {**env, **logging_env(stack, props), **cloud_env(stack), UA_APP_ID: logical_id}


def logging_env(stack: Stack, props: dict[str, Any]) -> dict[str, str]:
    """What Lambda sets from a function's LoggingConfig (Globals merged), as its runtime client reads it."""
    config = {**stack.template.get("Globals", {}).get("Function", {}).get("LoggingConfig", {})}
    config.update(props.get("LoggingConfig", {}))
    resolved = stack.resolve({k: v for k, v in config.items() if k in ("LogFormat", "ApplicationLogLevel")})
    env = {"AWS_LAMBDA_LOG_FORMAT": str(resolved.get("LogFormat", "Text"))}
    if resolved.get("LogFormat") == "JSON" and resolved.get("ApplicationLogLevel"):
        env["AWS_LAMBDA_LOG_LEVEL"] = str(resolved["ApplicationLogLevel"])
    return env


def _as_env(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    return str(value)
