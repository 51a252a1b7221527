"""`python -m infra.local run`: the local cloud, provisioned from the template, and the API."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import threading
from types import FrameType

from infra.local.cloud import LocalCloud
from infra.local.env import function_env
from infra.local.provision import provision
from infra.local.template import Stack, load_template

API_FUNCTION = "ApiFunction"


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m infra.local")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="start the local cloud and the API")
    run.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    run.add_argument("--aws-port", type=int, default=int(os.environ.get("MOTO_PORT", "4566")))
    run.add_argument("--host", default="127.0.0.1")
    return parser.parse_args(argv)


def run(args: argparse.Namespace) -> int:
    """Start everything; block until Ctrl-C or SIGTERM, then stop everything."""
    cloud = LocalCloud(args.host, args.aws_port).start()
    stack = Stack(load_template(), cloud.endpoint)
    provision(stack)
    env = {**os.environ, **function_env(stack, API_FUNCTION), "MOTO_PORT": str(cloud.port)}
    api = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "app.api.main:create_app",
            "--factory",
            "--host",
            args.host,
            "--port",
            str(args.port),
            "--no-access-log",
        ],
        env=env,
    )
    base = f"http://{args.host}:{args.port}"
    print(f"\n  API        {base}\n  Docs       {base}/docs\n  Local AWS  {cloud.endpoint}\n", flush=True)
    stop = threading.Event()

    def _stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    while not stop.wait(0.5):
        if api.poll() is not None:
            print("API process exited", file=sys.stderr)
            break
    api.terminate()
    try:
        api.wait(timeout=10)
    except subprocess.TimeoutExpired:
        api.kill()
    cloud.stop()
    print("stopped", flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    args = _parse(sys.argv[1:] if argv is None else argv)
    return run(args)


if __name__ == "__main__":
    raise SystemExit(main())
