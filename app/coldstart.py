"""A Lambda init with the cyclic garbage collector paused: from the handler module's import to its first reply.

An init allocates some 150,000 objects (modules, FastAPI's routes, botocore's service models) and frees almost
none: each collection on the way walks them all again for nothing (about 25 ms of the API's cold start
here, decision 0010). Once the first invocation has answered, `gc.freeze()` moves them to the permanent
generation, so that later collections skip them too. The price: a garbage cycle made during the init is
never collected, a bounded amount, once.

A handler module imports this module first. Only where Lambda or the local runtime loads it
(AWS_LAMBDA_FUNCTION_NAME): a test or uvicorn process keeps its collector.
"""

from __future__ import annotations

import functools
import gc
import os
from collections.abc import Callable
from typing import Any

_paused = False


def pause() -> None:
    """Stop automatic collections for the rest of the init (Lambda environments only)."""
    global _paused
    if "AWS_LAMBDA_FUNCTION_NAME" in os.environ and gc.isenabled():
        gc.disable()
        _paused = True


def resume() -> None:
    """Freeze what the init built and collect as usual again; nothing when not paused."""
    global _paused
    if _paused:
        _paused = False
        gc.freeze()
        gc.enable()


def until_first_reply[Handler: Callable[..., Any]](handler: Handler) -> Handler:
    """The handler, resuming collections once its first invocation has answered or failed."""
    if not _paused:
        return handler  # an eager init resumed already, or nothing was paused: no wrapper on the warm path

    @functools.wraps(handler)
    def invoke(*args: Any, **kwargs: Any) -> Any:
        try:
            return handler(*args, **kwargs)
        finally:
            if _paused:
                resume()

    return invoke  # type: ignore[return-value]


pause()
