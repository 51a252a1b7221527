"""`python -m infra.local run`: the local cloud, provisioned from the template, and the API."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from types import FrameType

from infra.local.cloud import LocalCloud
from infra.local.env import function_env
from infra.local.notifications import NotificationPrinter
from infra.local.provision import provision
from infra.local.runtime import LocalRuntime
from infra.local.runtime.invoke import invoke_command
from infra.local.seed import seed_catalog
from infra.local.template import TEMPLATE_PATH, Stack, load_template
from infra.local.token import NoSecret, token_for

API_FUNCTION = "ApiFunction"


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m infra.local")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="start the local cloud and the API")
    run.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    run.add_argument("--aws-port", type=int, default=int(os.environ.get("MOTO_PORT", "4566")))
    run.add_argument("--host", default="127.0.0.1")
    invoke = sub.add_parser("invoke", help="invoke one function of the template with a JSON event")
    invoke.add_argument("function", help="logical id, e.g. OrderWorkerFunction")
    invoke.add_argument("--event", default=None, help="JSON event file (default: Scheduled Event or {})")
    invoke.add_argument("--aws-port", type=int, default=int(os.environ.get("MOTO_PORT", "4566")))
    invoke.add_argument("--host", default="127.0.0.1")
    invoke.add_argument("--template", type=Path, default=TEMPLATE_PATH)
    token = sub.add_parser("token", help="print a 1-hour bearer token signed with the local dev secret")
    token.add_argument("--sub", default="local-user")
    token.add_argument("--role", choices=["user", "admin"], default="user")
    token.add_argument("--email", default=None)
    token.add_argument("--aws-port", type=int, default=int(os.environ.get("MOTO_PORT", "4566")))
    return parser.parse_args(argv)


def print_token(args: argparse.Namespace) -> int:
    """Print a token for the running local API; exit 2 when no secret is available."""
    try:
        print(token_for(args.aws_port, args.sub, args.role, args.email or None), flush=True)
    except NoSecret as exc:
        print(str(exc), file=sys.stderr)
        return 2
    return 0


def run(args: argparse.Namespace) -> int:
    """Start everything; block until Ctrl-C or SIGTERM, then stop everything."""
    cloud = LocalCloud(args.host, args.aws_port).start()
    stack = Stack(load_template(), cloud.endpoint)
    provision(stack)
    seed_catalog(stack)
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
    runtime = LocalRuntime(stack).start()
    notifications = NotificationPrinter(stack).start()  # prints each user notification as it arrives
    base = f"http://{args.host}:{args.port}"
    print(f"\n  API        {base}\n  Docs       {base}/docs\n  Local AWS  {cloud.endpoint}\n", flush=True)
    print("  Functions (event-driven, each in its own warm process):", flush=True)
    for line in runtime.describe():
        print(f"    {line}", flush=True)
    print("    NotificationTopic: printed here as [notification] lines", flush=True)
    print(flush=True)
    stop = threading.Event()

    def _stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    while not stop.wait(0.5):
        if api.poll() is not None:
            print("API process exited", file=sys.stderr)
            break
    # Drain first: in-flight invocations finish while the cloud and the API still answer.
    runtime.stop()
    notifications.stop()
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
    if args.command == "token":
        return print_token(args)
    if args.command == "invoke":
        return invoke_command(args.function, args.event, args.host, args.aws_port, args.template)
    return run(args)


if __name__ == "__main__":
    raise SystemExit(main())
