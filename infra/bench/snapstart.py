"""The first invocation after an eager (SnapStart or provisioned) init, against warm invocations of the same process."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

from infra.bench.cold import ROOT, _base_env

CHILD = """
import json, statistics, sys, time
event = json.loads(sys.argv[1])
started = time.perf_counter()
from app.lambda_handler import handler
init_ms = (time.perf_counter() - started) * 1000
started = time.perf_counter()
reply = handler(event, None)
first_us = (time.perf_counter() - started) * 1e6
assert reply["statusCode"] == 200, reply
warm = []
for _ in range(200):
    started = time.perf_counter()
    handler(event, None)
    warm.append((time.perf_counter() - started) * 1e6)
print("BENCH " + json.dumps({"init_ms": init_ms, "first_us": first_us, "warm_us": statistics.median(warm)}))
"""


def first_after_eager_init(event: dict[str, Any], env: dict[str, str], processes: int) -> list[dict[str, float]]:
    """One sample per fresh process whose init ran as SnapStart's does (AWS_LAMBDA_INITIALIZATION_TYPE)."""
    samples = []
    for _ in range(processes):
        proc = subprocess.run(
            [sys.executable, "-c", CHILD, json.dumps(event)],
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
