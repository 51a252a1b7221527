"""The template's functions as the local runtime sees them: handler, limits, environment."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from infra.local.env import function_env
from infra.local.template import ACCOUNT_ID, Stack

FUNCTION_TYPES = ("AWS::Serverless::Function", "AWS::Lambda::Function")
DEFAULT_TIMEOUT = 3
DEFAULT_MEMORY = 128


@dataclass(frozen=True)
class AsyncConfig:
    """What Lambda does with the function's failed asynchronous invocations (its EventInvokeConfig)."""

    retries: int = 2  # Lambda's default: two retries after the first attempt
    max_event_age: int = 21600  # six hours, the default and the maximum
    on_failure: str | None = None  # the ARN of an SQS on-failure destination

    @classmethod
    def of(cls, config: dict[str, Any]) -> AsyncConfig:
        """From a resolved EventInvokeConfig."""
        destination = config.get("DestinationConfig", {}).get("OnFailure", {})
        return cls(
            retries=int(config.get("MaximumRetryAttempts", 2)),
            max_event_age=int(config.get("MaximumEventAgeInSeconds", 21600)),
            on_failure=str(destination["Destination"]) if destination.get("Destination") else None,
        )


@dataclass(frozen=True)
class FunctionSpec:
    """One function of the template, resolved."""

    logical_id: str
    name: str
    arn: str
    handler: str
    timeout: float
    memory: int
    env: dict[str, str] = field(default_factory=dict)
    events: dict[str, dict[str, Any]] = field(default_factory=dict)
    asynchronous: AsyncConfig = field(default_factory=AsyncConfig)


def unknown_debug_target(stack: Stack, debug: str | None) -> str:
    """Why DEBUG= names no function of the template, or ""."""
    functions = stack.of_type(*FUNCTION_TYPES)
    if debug is None or debug in functions:
        return ""
    return f"DEBUG={debug}: not a function of the template; one of {', '.join(sorted(functions))}"


def discover(stack: Stack) -> dict[str, FunctionSpec]:
    """Every function of the template, by logical id."""
    return {logical: spec_of(stack, logical) for logical in stack.of_type(*FUNCTION_TYPES)}


def spec_of(stack: Stack, logical_id: str) -> FunctionSpec:
    """Resolve one function: Globals first, then its own properties."""
    globals_fn: dict[str, Any] = stack.template.get("Globals", {}).get("Function", {})
    props: dict[str, Any] = stack.resources[logical_id].get("Properties", {})
    merged = {**globals_fn, **props}
    name = stack.name(logical_id)
    arn = stack.arn(logical_id) if stack.resources[logical_id]["Type"] == FUNCTION_TYPES[0] else _arn(stack, name)
    memory = int(stack.resolve(merged.get("MemorySize", DEFAULT_MEMORY)))
    env = {
        **function_env(stack, logical_id),
        "AWS_LAMBDA_FUNCTION_NAME": name,
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(memory),
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{name}",
        "AWS_LAMBDA_LOG_STREAM_NAME": f"local/[$LATEST]{logical_id}",
    }
    return FunctionSpec(
        logical_id=logical_id,
        name=name,
        arn=arn,
        handler=handler_of(props),
        timeout=float(stack.resolve(merged.get("Timeout", DEFAULT_TIMEOUT))),
        memory=memory,
        env=env,
        events=dict(props.get("Events", {})),
        asynchronous=AsyncConfig.of(stack.resolve(merged.get("EventInvokeConfig", {}))),
    )


def handler_of(props: dict[str, Any]) -> str:
    """The dotted handler path: ImageConfig Command for images, Handler for zip functions."""
    command = props.get("ImageConfig", {}).get("Command")
    if command:
        return str(command[0])
    if "Handler" in props:
        return str(props["Handler"])
    raise ValueError("function has neither ImageConfig.Command nor Handler")


def _arn(stack: Stack, name: str) -> str:

    return f"arn:aws:lambda:{stack.region}:{ACCOUNT_ID}:function:{name}"
