"""`python -m infra.local run`: the local cloud, provisioned from the template, and the API."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from infra.local.paths import STATE_DIR, TEMPLATE_PATH

# Each command imports what it needs when it runs: `make token` must not pay for moto's import.

API_FUNCTION = "ApiFunction"


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m infra.local")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="start the local cloud and the API")
    run.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    run.add_argument("--aws-port", type=int, default=int(os.environ.get("MOTO_PORT", "4566")))
    run.add_argument("--host", default="127.0.0.1")
    run.add_argument("--no-reload", dest="reload", action="store_false", help="do not reload on save (RELOAD=0)")
    run.add_argument("--fresh", action="store_true", help="delete the saved state and start empty (FRESH=1)")
    run.add_argument("--debug", default="", help="run this function's worker under debugpy on port 5678")
    run.add_argument("--api", choices=["uvicorn", "lambda"], default=os.environ.get("API", "uvicorn") or "uvicorn")
    run.add_argument("--console-port", type=int, default=int(os.environ.get("CONSOLE_PORT", "8001")))
    run.add_argument("--no-warm", dest="warm", action="store_false", help="start workers on first use (WARM=0)")
    run.add_argument("--no-console", dest="console", action="store_false", help="no local console (CONSOLE=0)")
    run.add_argument(
        "--param", action="append", default=[], metavar="NAME=VALUE", help="a template parameter (PARAMS=)"
    )
    run.add_argument("--state-dir", type=Path, default=Path(os.environ.get("LOCAL_STATE_DIR", STATE_DIR)))
    for name, text in (("status", "the running stack: functions, queues, executions"), ("redrive", "move a DLQ back")):
        extra = sub.add_parser(name, help=text)
        extra.add_argument("--aws-port", type=int, default=int(os.environ.get("MOTO_PORT", "4566")))
        extra.add_argument("--host", default="127.0.0.1")
        if name == "redrive":
            extra.add_argument("queue", help="logical id of the DLQ, e.g. OrderDeadLetterQueue")
    event = sub.add_parser("event", help="print a function's default sample event")
    event.add_argument("function")
    event.add_argument("--aws-port", type=int, default=int(os.environ.get("MOTO_PORT", "4566")))
    event.add_argument("--host", default="127.0.0.1")
    invoke = sub.add_parser("invoke", help="invoke one function of the template with a JSON event")
    invoke.add_argument("function", help="logical id, e.g. OrderWorkerFunction")
    invoke.add_argument("--event", default=None, help="JSON event file (default: Scheduled Event or {})")
    invoke.add_argument("--aws-port", type=int, default=int(os.environ.get("MOTO_PORT", "4566")))
    invoke.add_argument("--host", default="127.0.0.1")
    invoke.add_argument(
        "--console-port", type=int, default=int(os.environ.get("CONSOLE_PORT", "8001")), help="0: never ask make run"
    )
    invoke.add_argument("--template", type=Path, default=TEMPLATE_PATH)
    token = sub.add_parser("token", help="print a 1-hour bearer token signed with the local dev secret")
    token.add_argument("--sub", default="local-user")
    token.add_argument("--role", choices=["user", "admin"], default="user")
    token.add_argument("--email", default=None)
    token.add_argument("--aws-port", type=int, default=int(os.environ.get("MOTO_PORT", "4566")))
    return parser.parse_args(argv)


def print_token(args: argparse.Namespace) -> int:
    """Print a token for the running local API; exit 2 when no secret is available."""
    from infra.local.token import NoSecret, token_for

    try:
        print(token_for(args.aws_port, args.sub, args.role, args.email or None), flush=True)
    except NoSecret as exc:
        print(str(exc), file=sys.stderr)
        return 2
    return 0


def run(args: argparse.Namespace) -> int:
    """Start everything; block until Ctrl-C or SIGTERM, then stop everything."""
    from infra.local.parameters import BadParameter, overrides
    from infra.local.supervisor import RunOptions, Supervisor
    from infra.local.template import load_template

    try:
        params = overrides(args.param, load_template())
    except BadParameter as exc:
        print(f"[run] {exc}", file=sys.stderr)
        return 2
    options = RunOptions(
        host=args.host,
        port=args.port,
        aws_port=args.aws_port,
        reload=args.reload,
        fresh=args.fresh,
        debug=args.debug or None,
        state_dir=args.state_dir,
        api=args.api,
        console_port=args.console_port if args.console else None,
        warm=args.warm,
        params=params,
    )
    return Supervisor(options).run()


def print_status(args: argparse.Namespace) -> int:
    """`make status`."""
    from infra.local.status import NotRunning, status
    from infra.local.template import Stack, load_template

    try:
        print(status(Stack(load_template(), f"http://{args.host}:{args.aws_port}")))
    except NotRunning as exc:
        print(str(exc), file=sys.stderr)
        return 2
    return 0


def redrive_queue(args: argparse.Namespace) -> int:
    """`make redrive QUEUE=<logical id>`."""
    from infra.local.status import redrive
    from infra.local.template import Stack, load_template

    stack = Stack(load_template(), f"http://{args.host}:{args.aws_port}")
    try:
        moved = redrive(stack, args.queue)
    except KeyError as exc:
        print(exc.args[0], file=sys.stderr)
        return 2
    print(f"moved {moved} messages from {args.queue} back to its source queue")
    return 0


def print_event(args: argparse.Namespace) -> int:
    """`make event FN=<LogicalId>`: the function's default sample event, to edit and pass as EVENT=."""
    from infra.local.samples import BUILDERS, sample_event
    from infra.local.template import Stack, load_template

    stack = Stack(load_template(), f"http://{args.host}:{args.aws_port}")
    try:
        print(json.dumps(sample_event(stack, args.function), indent=2))
    except KeyError:
        print(f"unknown function {args.function!r}; one of: {', '.join(sorted(BUILDERS))}", file=sys.stderr)
        return 2
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    args = _parse(sys.argv[1:] if argv is None else argv)
    if args.command == "token":
        return print_token(args)
    if args.command == "invoke":
        from infra.local.runtime.invoke import invoke_command

        return invoke_command(
            args.function, args.event, args.host, args.aws_port, args.template, args.console_port or None
        )
    commands = {"status": print_status, "redrive": redrive_queue, "event": print_event}
    return commands.get(args.command, run)(args)


if __name__ == "__main__":
    raise SystemExit(main())
