"""`make run PARAMS="Name=Value ..."`: the local stack's template parameters, checked as CloudFormation does."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


class BadParameter(ValueError):
    """A parameter override the template would refuse; the message is one line."""


def overrides(pairs: Iterable[str], template: dict[str, Any]) -> dict[str, str]:
    """Each `Name=Value` checked against the template's declaration (name, AllowedValues, MinValue, MaxValue)."""
    declared: dict[str, dict[str, Any]] = template.get("Parameters", {})
    found: dict[str, str] = {}
    for pair in pairs:
        name, equals, value = pair.partition("=")
        if not equals or not name:
            raise BadParameter(f"PARAMS: {pair!r} is not Name=Value")
        if name not in declared:
            raise BadParameter(f"PARAMS: the template has no parameter {name} (it has {', '.join(sorted(declared))})")
        _check(name, value, declared[name])
        found[name] = value
    return found


def _check(name: str, value: str, spec: dict[str, Any]) -> None:
    allowed = spec.get("AllowedValues")
    if allowed is not None and value not in [str(a) for a in allowed]:
        raise BadParameter(f"PARAMS: {name} must be one of {', '.join(str(a) for a in allowed)}, not {value!r}")
    if spec.get("Type") != "Number":
        return
    try:
        number = float(value)
    except ValueError:
        raise BadParameter(f"PARAMS: {name} is a number, not {value!r}") from None
    low, high = spec.get("MinValue"), spec.get("MaxValue")
    if (low is not None and number < float(low)) or (high is not None and number > float(high)):
        raise BadParameter(f"PARAMS: {name} must be between {low} and {high}, not {value}")
