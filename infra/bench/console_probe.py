"""The console bench's probe function: three log lines and its event back, nothing else."""

from __future__ import annotations

from typing import Any


def handler(event: Any, context: Any) -> Any:
    """Log like a small handler does, and answer."""
    print('{"level":"INFO","message":"received","orderId":"o-1"}')
    print('{"level":"INFO","message":"working","step":2}')
    print('{"level":"INFO","message":"done"}')
    return event
