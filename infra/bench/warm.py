"""Warm overhead: per-invocation latency of the API handler (auth, logging, metrics; AWS answered by
in-process fakes) against a minimal async FastAPI + Mangum route, in fresh processes side by side."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

from infra.bench.cold import ROOT, _base_env

OURS = """
import json, sys, time
from datetime import UTC, datetime

import app.lambda_handler as lambda_handler
from app.adapters.secrets import StaticSecret
from app.api import deps
from app.domain.users import User
from app.services.cursor import CursorCodec
from app.services.tokens import SecretKeys, TokenRules, TokenVerifier
from app.services.users import UserService

out, count, event, secret = sys.argv[1], int(sys.argv[2]), json.loads(sys.argv[3]), sys.argv[4]
now = datetime.now(UTC)


class Users:
    # The one repository method GET /users/{id} needs, answered in memory.
    def get(self, user_id):
        return User(user_id, "Ada", "ada@example.com", now, now)


class Fakes:
    users = UserService(Users(), None, lambda: now, CursorCodec("k" * 32, "users"), "arn:topic")
    tokens = TokenVerifier(SecretKeys(StaticSecret(secret)), TokenRules("order-service", "order-service", 30))


deps.get_container = lambda: Fakes  # what the process-wide container would be; no dependency_overrides
handler = lambda_handler.handler
"""

BASELINE = """
import json, sys, time

from fastapi import FastAPI
from mangum import Mangum

out, count, event = sys.argv[1], int(sys.argv[2]), json.loads(sys.argv[3])
app = FastAPI()


@app.get("/users/{user_id}")
async def get_user(user_id: str) -> dict:
    return {"id": user_id, "name": "Ada", "email": "ada@example.com", "version": 1}


handler = Mangum(app, lifespan="off")
"""

LOOP = """
for _ in range(200):  # warm up
    assert handler(event, None)["statusCode"] == 200
samples = []
for _ in range(count):
    started = time.perf_counter()
    reply = handler(event, None)
    samples.append(time.perf_counter() - started)
    assert reply["statusCode"] == 200, reply
samples.sort()
with open(out, "w") as f:
    json.dump({"p50_us": samples[len(samples) // 2] * 1e6, "p99_us": samples[int(len(samples) * 0.99)] * 1e6}, f)
"""


def p50_per_process(
    event: dict[str, object], secret: str, env: dict[str, str], processes: int, total: int
) -> tuple[list[float], list[float]]:
    """Median latency (µs) of each fresh process, ours and the baseline interleaved; `total` calls per variant."""
    per_process = -(-total // processes)
    ours: list[float] = []
    base: list[float] = []
    with tempfile.TemporaryDirectory(prefix="bench-warm-") as tmp:
        out = Path(tmp) / "result.json"
        for i in range(processes):
            order = [(OURS, ours), (BASELINE, base)] if i % 2 == 0 else [(BASELINE, base), (OURS, ours)]
            for script, into in order:
                args = [str(out), str(per_process), json.dumps(event), secret]
                subprocess.run(
                    [sys.executable, "-c", script + LOOP, *args],
                    env={**_base_env(), **env},
                    cwd=ROOT,
                    stdout=subprocess.DEVNULL,  # both pay for their own log writes, as on Lambda
                    check=True,
                    timeout=600,
                )
                into.append(float(json.loads(out.read_text())["p50_us"]))
    return ours, base


PROFILE = """
import cProfile, os, pstats, site, sysconfig
for _ in range(200):
    handler(event, None)
profiler = cProfile.Profile()
profiler.enable()
for _ in range(count):
    handler(event, None)
profiler.disable()
stats = pstats.Stats(profiler).stats
total = sum(row[2] for row in stats.values())
roots = sorted([*site.getsitepackages(), sysconfig.get_paths()["stdlib"], os.getcwd()], key=len, reverse=True)
def where(file):
    # A path relative to site-packages, the standard library or the project: never this machine's own paths.
    root = next((r for r in roots if file.startswith(r)), "")
    return file[len(root):].lstrip("/")
rows = sorted(stats.items(), key=lambda kv: kv[1][2], reverse=True)[:12]
top = [[f"{where(f)}:{name}", stat[2] / total] for (f, _, name), stat in rows]
with open(out, "w") as f:
    json.dump(top, f)
"""


def profile_top(
    event: dict[str, object], secret: str, env: dict[str, str], calls: int = 5000
) -> list[tuple[str, float]]:
    """The functions where a warm invocation spends its own time (cProfile tottime), as shares of the total."""
    with tempfile.TemporaryDirectory(prefix="bench-profile-") as tmp:
        out = Path(tmp) / "profile.json"
        subprocess.run(
            [sys.executable, "-c", OURS + PROFILE, str(out), str(calls), json.dumps(event), secret],
            env={**_base_env(), **env},
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            check=True,
            timeout=600,
        )
        return [(name, float(share)) for name, share in json.loads(out.read_text())]
