"""Short full garbage collections in the process that hosts the local cloud."""

from __future__ import annotations

import gc
from typing import Any

OLDEST = 2


def freeze_survivors() -> None:
    """Leave what is alive now, and what survives each full collection from now on, out of the next ones."""
    # moto keeps every item, message and execution history as Python objects in this process, and each full
    # collection walked them all: under `make load`, 11 pauses of up to 440 ms, each one stalling every request
    # to the local cloud. What survives a full collection is long-lived (tables, queues, histories); frozen, the
    # next ones skip it. The price is that a cycle among frozen objects is never freed: moto deletes little.
    gc.freeze()
    if _freeze_after_full not in gc.callbacks:
        gc.callbacks.append(_freeze_after_full)


def _freeze_after_full(phase: str, info: dict[str, Any]) -> None:
    if phase == "stop" and info["generation"] == OLDEST:
        gc.freeze()
