"""The GC paused for a Lambda init: off from the handler module's import, on again after its first reply."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import gc, json, sys
BEFORE = gc.get_freeze_count()  # Python 3.12 starts with a few hundred objects frozen of its own
import workers.order_workflow as tasks
state = {"after_import": gc.isenabled()}
try:
    tasks.validate_order({"no": "orderId"}, None)  # refused before any AWS call
except Exception as exc:
    state["error"] = type(exc).__name__
state |= {"after_first": gc.isenabled(), "frozen": gc.get_freeze_count() - BEFORE}
try:
    tasks.validate_order({}, None)
except Exception:
    pass
state["frozen_after_second"] = gc.get_freeze_count() - BEFORE
print(json.dumps(state))
"""


def probe(env: dict[str, str]) -> dict[str, object]:
    """Import a task module in a fresh process, invoke it twice, and report the collector's state."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("AWS_LAMBDA_")}
    clean = {**base, **env}
    out = subprocess.run(
        [sys.executable, "-c", PROBE], env=clean, cwd=ROOT, capture_output=True, text=True, timeout=120, check=True
    )
    result: dict[str, object] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def test_a_lambda_init_runs_without_collections_until_the_first_reply_then_freezes_what_it_built() -> None:
    state = probe({"AWS_LAMBDA_FUNCTION_NAME": "order-service-validate-order-dev"})
    assert state["after_import"] is False
    assert state["error"] == "ValidationError"  # a failed first invocation resumes the collector too
    assert state["after_first"] is True
    assert isinstance(state["frozen"], int)
    assert state["frozen"] > 10_000
    assert state["frozen_after_second"] == state["frozen"]


def test_outside_lambda_the_collector_is_never_paused() -> None:
    state = probe({})
    assert (state["after_import"], state["after_first"], state["frozen"]) == (True, True, 0)


def test_the_api_under_uvicorn_keeps_its_collector_even_with_a_lambda_name_set() -> None:
    # Only a handler module pauses the collector: the app alone (what uvicorn serves) never resumes one.
    script = "import gc, app.api.main, app.observability, workers.common; print(gc.isenabled())"
    base = {k: v for k, v in os.environ.items() if not k.startswith("AWS_LAMBDA_")}
    env = {**base, "AWS_LAMBDA_FUNCTION_NAME": "order-service-api-dev"}
    out = subprocess.run(
        [sys.executable, "-c", script], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120, check=True
    )
    assert out.stdout.strip().splitlines()[-1] == "True"
