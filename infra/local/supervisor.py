"""`make run`: the local cloud, its saved data, every function, the API, reload on save."""

from __future__ import annotations

import os
import signal
import socket
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Protocol

from infra.local.api_gateway import LambdaGateway, cors_origins
from infra.local.api_process import ApiProcess, PortBusy, listen, workers_wanted
from infra.local.cloud import LocalCloud
from infra.local.collector import freeze_survivors
from infra.local.console import Recording
from infra.local.env import function_env
from infra.local.infra_changes import InfraChanges
from infra.local.notifications import NotificationPrinter
from infra.local.output import Output
from infra.local.paths import STATE_DIR
from infra.local.provision import provision
from infra.local.reload import Reloadable, Reloader
from infra.local.runtime import LocalRuntime
from infra.local.runtime.functions import unknown_debug_target
from infra.local.runtime.worker import LogSink, base_env
from infra.local.seed import seed_catalog
from infra.local.state import StateStore
from infra.local.status import write_function_stats
from infra.local.template import Stack, load_template

API_FUNCTION = "ApiFunction"
HEALTH_TIMEOUT = 60


@dataclass(frozen=True)
class RunOptions:
    """What `make run` was asked for."""

    host: str = "127.0.0.1"
    port: int = 8000
    aws_port: int = 4566
    reload: bool = True
    fresh: bool = False
    debug: str | None = None
    state_dir: Path = STATE_DIR
    api: str = "uvicorn"  # or "lambda": through the authorizer and the API function's Lambda handler
    console_port: int | None = 8001  # None: no console (CONSOLE=0)
    warm: bool = True  # False: each function's first worker starts with its first event (WARM=0)
    params: dict[str, str] = field(default_factory=dict)  # template parameter overrides (PARAMS=)


class ApiServer(Protocol):
    """What serves the API locally: uvicorn in a process, or the HTTP API's Lambda path."""

    @property
    def alive(self) -> bool:
        """True while it serves."""
        ...

    @property
    def pid(self) -> int | None:
        """The serving process, if it is one."""
        ...

    @property
    def exit_code(self) -> int | None:
        """How the serving process ended, if it did."""
        ...

    def start(self) -> str | None:
        """Start serving; an error line when the app does not import."""
        ...

    def reload(self) -> str | None:
        """Serve the code as it is now."""
        ...

    def stop(self) -> None:
        """Stop serving."""
        ...


def port_free(host: str, port: int) -> bool:
    """True when nothing listens on the port (checked before anything starts)."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def wait_healthy(base: str, stop: threading.Event, timeout: float = HEALTH_TIMEOUT) -> bool:
    """True once GET /health answers (any status: the app is serving); False on timeout or stop."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not stop.is_set():
        try:
            with urllib.request.urlopen(f"{base}/health", timeout=2):  # noqa: S310 - loopback URL we built
                return True
        except urllib.error.HTTPError:
            return True
        except OSError:
            stop.wait(0.1)
    return False


def uvicorn_env(stack: Stack, moto_port: int) -> dict[str, str]:
    """ApiFunction's environment under uvicorn, which stands in for the HTTP API as well: in AWS the HTTP API
    answers CORS (the function gets none to apply), so here the app applies the API's CorsConfiguration."""
    env = {**function_env(stack, API_FUNCTION), "MOTO_PORT": str(moto_port)}
    return {**env, "CORS_ALLOWED_ORIGINS": ",".join(cors_origins(stack))}


class Supervisor:
    """Starts everything in order, keeps it running, and stops it so that nothing is lost."""

    def __init__(self, options: RunOptions, out: Output | None = None) -> None:
        self.options = options
        self.out = out or Output()
        self.started = time.monotonic()
        self._stop = threading.Event()

    def say(self, text: str) -> None:
        """One progress line."""
        self.out(f"[run] {text}")

    def run(self) -> int:
        """Start, serve until SIGINT/SIGTERM, stop; the exit code."""
        # From the first moment: a Ctrl-C during the start stops cleanly too, never with a traceback.
        signal.signal(signal.SIGINT, self._on_signal)
        signal.signal(signal.SIGTERM, self._on_signal)
        options = self.options
        # Checked before anything starts: a typo is answered at once, never after the cloud and its provisioning.
        unknown = unknown_debug_target(Stack(load_template(), ""), options.debug)
        if unknown:
            self.say(unknown)
            return 2
        if not port_free(options.host, options.aws_port):
            self.say(
                f"the local AWS port {options.host}:{options.aws_port} is in use: stop what uses it, or MOTO_PORT="
            )
            return 2
        try:
            sock = listen(options.host, options.port)
        except PortBusy as exc:
            self.say(f"the API port {exc}: stop what uses it, or run with PORT=")
            return 2
        try:
            console_sock = listen("127.0.0.1", options.console_port) if options.console_port is not None else None
        except PortBusy as exc:
            sock.close()
            self.say(f"the console port {exc}: stop what uses it, or run with CONSOLE_PORT= (CONSOLE=0: none)")
            return 2
        self.say(f"starting the local AWS on {options.host}:{options.aws_port}")
        cloud = LocalCloud(options.host, options.aws_port).start()
        try:
            return self._serve(cloud, sock, console_sock)
        finally:
            cloud.stop()

    def _say_warm(self, runtime: LocalRuntime) -> None:
        # Until then the workers' inits share the cores with the first events (`make load` waits for this line).
        ready = runtime.wait_warm()
        self.say(f"{ready} function workers warm, {time.monotonic() - self.started:.1f} s after the start")

    def _serve(self, cloud: LocalCloud, sock: socket.socket, console_sock: socket.socket | None) -> int:
        options = self.options
        stack = Stack(load_template(), cloud.endpoint, overrides=dict(options.params))
        created = provision(stack)
        self.say(f"provisioned {created} resources from infra/template.yaml")
        store = StateStore(stack, options.state_dir, log=self.out)
        if options.fresh:
            cleared = store.clear()
            self.say("FRESH=1: starting empty" + (" (the saved state was deleted)" if cleared else ""))
        snapshot = store.load()
        console = Recording(console_sock, self.out)
        runtime = LocalRuntime(stack, log=console.log, debug=options.debug, observer=console.observer)
        runtime.start(warm=False)
        self.say(f"wired {len(runtime.sources)} event sources to {len(runtime.functions)} functions")
        if snapshot is not None:
            # After the runtime's own queues exist, so that pending events for its rules come back too.
            store.restore(snapshot)
            resumed = store.resume(snapshot)
            self.say(f"restored {snapshot.summary()} from {options.state_dir.name}/ ({resumed} restarted)")
        else:
            seed_catalog(stack)
            self.say("no saved state: seeded the demo catalog")
        cloud.observers.append(store.observe)
        store.start()
        freeze_survivors()  # the imports, the provisioned resources and the restored state
        api = self._api(sock, stack, runtime, cloud, console.log)
        notifications = NotificationPrinter(stack, console.log, on_message=console.recorder.notification).start()
        reloader: Reloader | None = None
        try:
            console.serve(runtime)
            error = api.start()
            base = f"http://{options.host}:{options.port}"
            if error is not None or not wait_healthy(base, self._stop):
                if self._stop.is_set():
                    return 0
                self.say(f"the API did not start: {error or 'no answer on /health'}")
                return 1
            self._banner(base, cloud, runtime, console.url)
            if options.warm and not self._stop.is_set():
                runtime.warm()
                threading.Thread(target=self._say_warm, args=(runtime,), name="warm", daemon=True).start()
            if options.reload:
                reloader = self._reloader(api, runtime, stack).start()
            return self._wait(api, runtime)
        finally:
            if reloader is not None:
                reloader.stop()
            # Drain first: in-flight invocations finish while the cloud and the API still answer.
            runtime.stop()
            console.stop()
            notifications.stop()
            saved = store.stop()
            api.stop()
            self.say(f"stopped; saved {saved.summary()} to {options.state_dir.name}/ (FRESH=1 starts empty)")

    def _api(
        self, sock: socket.socket, stack: Stack, runtime: LocalRuntime, cloud: LocalCloud, log: LogSink
    ) -> ApiServer:
        if self.options.api == "lambda":
            return LambdaGateway(sock, stack, runtime.pools, log)
        env = uvicorn_env(stack, cloud.port)
        # One process when a debugger is to attach to the API: every request then reaches it.
        workers = 1 if self.options.debug == API_FUNCTION else workers_wanted(os.environ)
        return ApiProcess(sock, {**base_env(), **env}, log, workers)

    def _reloader(self, api: ApiServer, runtime: LocalRuntime, stack: Stack) -> Reloader:
        def targets() -> dict[str, Reloadable]:
            if not isinstance(api, ApiProcess):
                return dict(runtime.pools)  # the Lambda path: ApiFunction's own warm workers
            # Under uvicorn, its process replaces the ApiFunction pool (used only by `make invoke`).
            return {**runtime.pools, API_FUNCTION: api}

        changes = InfraChanges(stack, runtime.refresh_state_machines, self.out)
        return Reloader(targets, self.out, on_infra_change=changes)

    def _banner(self, base: str, cloud: LocalCloud, runtime: LocalRuntime, console: str | None) -> None:
        seconds = time.monotonic() - self.started
        lines = [
            "",
            f"  API        {base}        (ready in {seconds:.1f} s)",
            f"  Docs       {base}/docs",
            f"  Console    {console}   (topology, executions, queues, order journeys)"
            if console
            else "  Console    off",
            f"  Local AWS  {cloud.endpoint}",
            f"  State      {self.options.state_dir.name}/ (kept across restarts; FRESH=1 starts empty)",
            f"  Reload     {'on: save a file under app/ or workers/' if self.options.reload else 'off (RELOAD=0)'}",
            f"  API path   {self._api_path()}",
            "",
            "  Functions (event-driven, each in its own warm process"
            + ("):" if self.options.warm else ", started by its first event: WARM=0):"),
            *(f"    {line}" for line in runtime.describe()),
            "    NotificationTopic: printed here as [notification] lines",
            "",
            "  make token | make status | make redrive QUEUE=<DLQ> | make invoke FN=<LogicalId> | Ctrl-C stops",
            "",
        ]
        self.out.block("\n".join(lines))

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        self._stop.set()

    def _api_path(self) -> str:
        if self.options.api == "lambda":
            return "API=lambda: AuthorizerFunction, then ApiFunction's Lambda handler (Mangum), per request"
        return "uvicorn (API=lambda runs each request through the authorizer and Mangum)"

    def _wait(self, api: ApiServer, runtime: LocalRuntime) -> int:
        ticks = 0
        given_up: int | None = None  # the dead API process a restart failed for: a save retries, not a loop
        while not self._stop.wait(0.5):
            if not api.alive and api.pid != given_up:
                # As Lambda replaces a crashed environment: the stack and its data stay up.
                self.say(f"the API process exited (code {api.exit_code}); starting a new one")
                error = api.reload()
                if error is not None:
                    given_up = api.pid
                    self.say(f"the API could not restart: {error}; save a fix, or Ctrl-C")
            ticks += 1
            if ticks % 4 == 0:  # every 2 s, for `make status`
                stats = {name: vars(pool.stats) for name, pool in runtime.pools.items()}
                write_function_stats(self.options.state_dir, stats)
        return 0
