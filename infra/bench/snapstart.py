"""The first invocation after an eager (SnapStart or provisioned) init, against warm invocations of the same process."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

from infra.bench.cold import ROOT, _base_env

CHILD = """
import importlib, json, statistics, sys, time
module, function, event, expected = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), json.loads(sys.argv[4])
started = time.perf_counter()
handler = getattr(importlib.import_module(module), function)
init_ms = (time.perf_counter() - started) * 1000
started = time.perf_counter()
reply = handler(event, None)
first_us = (time.perf_counter() - started) * 1e6
assert all(reply.get(key) == value for key, value in expected.items()), reply
warm = []
for _ in range(200):
    started = time.perf_counter()
    handler(event, None)
    warm.append((time.perf_counter() - started) * 1e6)
print("BENCH " + json.dumps({"init_ms": init_ms, "first_us": first_us, "warm_us": statistics.median(warm)}))
"""


API = ("app.lambda_handler", "handler", {"statusCode": 200})
AUTHORIZER = ("workers.authorizer", "handler", {"isAuthorized": True})


def first_after_eager_init(
    event: dict[str, Any], env: dict[str, str], processes: int, handler: tuple[str, str, dict[str, Any]] = API
) -> list[dict[str, float]]:
    """One sample per fresh process whose init ran as SnapStart's does (AWS_LAMBDA_INITIALIZATION_TYPE).

    `handler` is its module, its function and what its reply must hold.
    """
    module, function, expected = handler
    samples = []
    for _ in range(processes):
        proc = subprocess.run(
            [sys.executable, "-c", CHILD, module, function, json.dumps(event), json.dumps(expected)],
            env={**_base_env(), **env, "AWS_LAMBDA_INITIALIZATION_TYPE": "snap-start"},
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        line = next((x for x in proc.stdout.splitlines() if x.startswith("BENCH ")), None)
        if proc.returncode != 0 or line is None:
            raise RuntimeError(f"eager init failed ({proc.returncode}): {proc.stderr[-2000:]}")
        samples.append(json.loads(line[len("BENCH ") :]))
    return samples
