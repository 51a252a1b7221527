"""Cold starts: fresh processes that import a handler and answer its first event, ours against a baseline."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]

# Runs in the fresh process: time from before the handler's import to its first reply, and peak RSS.
CHILD = """
import time
started = time.perf_counter()
import importlib, json, sys
module, function, event = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
handler = getattr(importlib.import_module(module), function)
imported = time.perf_counter()
reply = handler(event, None)
done = time.perf_counter()
# VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the parent across exec.
hwm = next(int(x.split()[1]) for x in open("/proc/self/status") if x.startswith("VmHWM:"))
print("BENCH " + json.dumps({"ms": (done - started) * 1000, "import_ms": (imported - started) * 1000,
                             "rss_mb": hwm / 1024, "reply": str(reply)[:300]}), flush=True)
"""

API_BASELINE = """
import os

import boto3
from fastapi import FastAPI
from mangum import Mangum

TABLE = os.environ["USERS_TABLE"]
dynamodb = boto3.client("dynamodb")
app = FastAPI()


@app.get("/users/{user_id}")
async def get_user(user_id: str) -> dict:
    item = dynamodb.get_item(TableName=TABLE, Key={"id": {"S": user_id}}, ConsistentRead=True)["Item"]
    return {key: next(iter(value.values())) for key, value in item.items()}


handler = Mangum(app, lifespan="off")
"""

# The same AWS requests the real worker made for its first event, replayed by a bare handler.
WORKER_BASELINE = """
import json
import os

import boto3
from botocore.exceptions import ClientError

CALLS = json.loads(os.environ["BENCH_REPLAY"])
clients = {service: boto3.client(service) for service in {call[0] for call in CALLS}}


def handler(event, context):
    for service, method, params in CALLS:
        try:
            getattr(clients[service], method)(**params)
        except ClientError:
            pass  # a replayed conditional write may be refused: the round trip is what counts
    return {"batchItemFailures": []}
"""


# What the design names for every function, and nothing of ours: a Powertools Logger (its package init also
# imports Metrics and Tracer's class). Put before a baseline, it gives the floor that library sets. Settings are
# no part of it: app/settings.py reads them with the standard library (issue 29).
NAMED_LIBRARIES = """
from aws_lambda_powertools import Logger

LOGGER = Logger(service="floor")
"""


@dataclass
class Variant:
    """A handler to cold-start: module, function, environment, and a fresh event per process."""

    module: str
    function: str
    env: dict[str, str]
    event: Callable[[int], dict[str, Any]]


@dataclass
class Sample:
    """One fresh process."""

    ms: float
    import_ms: float
    rss_mb: float
    reply: str


def baselines_dir() -> Path:
    """A directory holding the baseline modules (put on PYTHONPATH of the baseline processes)."""
    path = Path(tempfile.mkdtemp(prefix="bench-baselines-"))
    (path / "bench_api_baseline.py").write_text(API_BASELINE)
    (path / "bench_worker_baseline.py").write_text(WORKER_BASELINE)
    (path / "bench_api_floor.py").write_text(NAMED_LIBRARIES + API_BASELINE)
    (path / "bench_worker_floor.py").write_text(NAMED_LIBRARIES + WORKER_BASELINE)
    return path


def run_once(variant: Variant, index: int, extra_args: tuple[str, ...] = ()) -> tuple[Sample, str]:
    """Start one fresh process; its sample and its stderr."""
    env = {**_base_env(), **variant.env}
    args = [sys.executable, *extra_args, "-c", CHILD, variant.module, variant.function]
    proc = subprocess.run(
        [*args, json.dumps(variant.event(index))], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    line = next((x for x in proc.stdout.splitlines() if x.startswith("BENCH ")), None)
    if proc.returncode != 0 or line is None:
        raise RuntimeError(f"{variant.module} failed ({proc.returncode}): {proc.stderr[-2000:]}")
    data = json.loads(line[len("BENCH ") :])
    return Sample(data["ms"], data["import_ms"], data["rss_mb"], data["reply"]), proc.stderr


def alternate(ours: Variant, baseline: Variant, runs: int) -> tuple[list[Sample], list[Sample]]:
    """`runs` fresh processes of each, interleaved so that machine noise hits both alike."""
    a: list[Sample] = []
    b: list[Sample] = []
    for i in range(runs):
        first, second = (ours, baseline) if i % 2 == 0 else (baseline, ours)
        for variant in (first, second):
            sample, _ = run_once(variant, i)
            (a if variant is ours else b).append(sample)
    return a, b


def import_costs(variant: Variant, top: int = 12, depth: int = 2) -> list[tuple[str, float]]:
    """The largest cumulative import times (ms) of a cold start, from `-X importtime`, down to `depth` levels."""
    _, stderr = run_once(variant, 10_000, ("-X", "importtime"))
    costs: list[tuple[str, float]] = []
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _, cumulative_us, name = line.split("|", 2)
        level = (len(name) - len(name.lstrip(" ")) - 1) // 2  # importtime indents nested imports by two spaces
        if level < depth:
            costs.append(("  " * level + name.strip(), int(cumulative_us) / 1000))
    return sorted(costs, key=lambda kv: kv[1], reverse=True)[:top]


def _base_env() -> dict[str, str]:
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR")
    return {k: v for k, v in os.environ.items() if k in keep}
