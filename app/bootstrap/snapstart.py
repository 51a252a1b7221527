"""Eager init for SnapStart and provisioned concurrency; lazy init for on-demand environments.

An on-demand init is paid by the request that waits for it, so it loads only what that request needs. A
SnapStart or provisioned init runs before any request: every import, client and secret read there is free
at invoke time, so it does all of them (decision 0009). After a snapshot restore, whatever must differ
between restored environments (random state, cached secrets) is refreshed by the runtime's hook.
"""

from __future__ import annotations

import os
import random
from collections.abc import Callable

EAGER_INITS = frozenset({"snap-start", "provisioned-concurrency"})


def eager_init() -> bool:
    """Whether this environment's init runs ahead of any request (AWS_LAMBDA_INITIALIZATION_TYPE)."""
    return os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand") in EAGER_INITS


def after_restore(callback: Callable[[], None]) -> bool:
    """Run `callback` after every SnapStart restore; False where the runtime has no restore hooks."""
    try:
        # Shipped with the Lambda Python runtime (3.12+ base images); locally only where awslambdaric is installed
        # (the dev tools), whose hooks nothing ever runs outside Lambda.
        from snapshot_restore_py import register_after_restore
    except ImportError:
        return False
    register_after_restore(callback)
    return True


def refresh_after_restore() -> None:
    """What every restored environment must redo: its own random state and fresh secrets."""
    from app.adapters.secrets import forget_cached_secrets

    # Restored copies of one snapshot share the PRNG state: botocore's retry jitter would be identical.
    random.seed()
    # The snapshot may be days old: read secrets again (a rotation since then takes effect now).
    forget_cached_secrets()
