"""The local serverless runtime: the template's functions, with their real event sources.

Imports are lazy: worker processes import `infra.local.runtime.bootstrap` and must not pay
for the template loader (cfn-lint) at every cold start.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from infra.local.runtime.runtime import LocalRuntime
    from infra.local.runtime.worker import FunctionPool, Invocation

_EXPORTS = {
    "LocalRuntime": "infra.local.runtime.runtime",
    "FunctionPool": "infra.local.runtime.worker",
    "Invocation": "infra.local.runtime.worker",
}
__all__ = ["FunctionPool", "Invocation", "LocalRuntime"]


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(name)
    return getattr(importlib.import_module(_EXPORTS[name]), name)
