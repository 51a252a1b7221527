"""A small YAML loader for CloudFormation templates, short-form intrinsic tags included.

cfn-lint ships one too, but importing cfn-lint costs seconds; `make invoke` and every
worker-less tool path load the template, so a PyYAML loader keeps them quick.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

_BASE: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# Short form -> long form.
_TAGS = {
    "Ref": "Ref",
    "Condition": "Condition",
    **{
        name: f"Fn::{name}"
        for name in (
            "Base64",
            "Cidr",
            "FindInMap",
            "GetAtt",
            "GetAZs",
            "ImportValue",
            "Join",
            "Select",
            "Split",
            "Sub",
            "Transform",
            "And",
            "Equals",
            "If",
            "Not",
            "Or",
            "ToJsonString",
            "Length",
        )
    },
}


class CfnLoader(_BASE):  # type: ignore[misc]
    """SafeLoader plus CloudFormation's `!Tag` shorthand."""


def _construct(tag: str) -> Any:
    def build(loader: Any, node: Any) -> dict[str, Any]:
        if isinstance(node, yaml.ScalarNode):
            value: Any = loader.construct_scalar(node)
            if tag == "Fn::GetAtt":
                # "Resource.Attribute" -> ["Resource", "Attribute"], the long form's shape.
                value = value.split(".", 1)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)
        return {tag: value}

    return build


for _short, _long in _TAGS.items():
    CfnLoader.add_constructor(f"!{_short}", _construct(_long))


def load(path: Path) -> dict[str, Any]:
    """Parse a template file."""
    with path.open(encoding="utf-8") as handle:
        data: dict[str, Any] = yaml.load(handle, Loader=CfnLoader)  # noqa: S506 - a safe loader subclass
    return data
