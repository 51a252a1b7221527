"""Warm worker processes: one Python process per execution environment, as Lambda keeps them."""

from __future__ import annotations

import io
import json
import os
import select
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, Any

from infra.local.paths import PROJECT_ROOT
from infra.local.runtime.bootstrap import LOGS_FLUSHED
from infra.local.runtime.functions import FunctionSpec
from infra.local.runtime.trace import TRIGGER, InvocationObserver

# Lambda allows 10 s of init; a busy laptop starting every worker at once gets more.
INIT_TIMEOUT = 60
LogSink = Callable[[str], None]


@dataclass(frozen=True)
class Invocation:
    """The outcome of one invocation, as Lambda reports it."""

    request_id: str
    result: Any = None
    error: dict[str, Any] | None = None
    duration_ms: float = 0.0

    @property
    def ok(self) -> bool:
        """True when the handler returned normally."""
        return self.error is None


def print_sink(line: str) -> None:
    """Default log sink: the runtime's stdout."""
    print(line, flush=True)


@dataclass
class FunctionStats:
    """What `make status` shows of a function."""

    invocations: int = 0
    errors: int = 0
    last_error: str | None = None
    last_error_at: float | None = None


class Worker:
    """One warm process running one function's handler."""

    def __init__(
        self,
        spec: FunctionSpec,
        log: LogSink,
        generation: int = 0,
        debug_port: int | None = None,
        observer: InvocationObserver | None = None,
    ) -> None:
        self.spec = spec
        self.log = log
        self.observer = observer
        self.serving: str | None = None  # the request id of the invocation running now (its log lines' owner)
        # Under a debugger, a breakpoint may hold an invocation for minutes: no init or invoke timeout.
        self.debugging = debug_port is not None
        self.generation = generation  # the pool's code generation this process was started on
        self.modules: set[str] = set()
        self.init_error: dict[str, Any] | None = None
        reply_read, reply_write = os.pipe()
        self.process = subprocess.Popen(
            [*_debugger(debug_port), "-m", "infra.local.runtime.bootstrap", spec.handler, str(reply_write)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            pass_fds=(reply_write,),
            cwd=PROJECT_ROOT,
            env={**base_env(), **spec.env, "PYTHONUNBUFFERED": "1"},
            text=True,
        )
        assert isinstance(self.process.stdout, io.TextIOWrapper)
        # Only LF ends a line: an error record's traceback is joined by CRs, one record as in AWS (bootstrap.py).
        self.process.stdout.reconfigure(newline="\n")
        os.close(reply_write)
        self._replies: IO[str] = os.fdopen(reply_read, "r")
        self._logs = threading.Thread(target=self._pump_logs, name=f"logs-{spec.logical_id}", daemon=True)
        self._logs.start()
        self._ready = False
        self._ready_lock = threading.Lock()
        self._flushed = threading.Event()

    def _wait_ready(self) -> bool:
        with self._ready_lock:  # the reloader may ask an idle worker while an invocation picks it up
            return self._read_ready()

    def _read_ready(self) -> bool:
        if not self._ready:
            ready, _, _ = select.select([self._replies], [], [], None if self.debugging else INIT_TIMEOUT)
            line = self._replies.readline() if ready else ""
            self._ready = bool(line)
            if line:
                hello = json.loads(line)
                self.modules.update(hello.get("modules", ()))
                self.init_error = hello.get("error")
        return self._ready

    def start_error(self) -> str | None:
        """Wait for init; None when the handler imported, else one line: `file:line: Error: message`."""
        if not self._wait_ready():
            return f"{self.spec.logical_id}: the worker exited during init"
        if self.init_error is None:
            return None
        where = self.init_error.get("where") or self.spec.handler
        return f"{where}: {self.init_error.get('errorMessage', '')}"

    def _pump_logs(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            if line.rstrip("\n") == LOGS_FLUSHED:
                self._flushed.set()
                continue
            self.log(f"[{self.spec.logical_id}] {line.rstrip()}")
            if self.observer is not None:
                self.observer.logged(self.spec.logical_id, self.serving, line.rstrip())

    @property
    def alive(self) -> bool:
        """True while the process runs."""
        return self.process.poll() is None

    def invoke(self, event: Any, request_id: str) -> Invocation:
        """Run the handler once; kill the process if it outlives the function's Timeout."""
        if not self._wait_ready():
            return self._exited(request_id, time.monotonic())
        self._flushed.clear()
        self.serving = request_id
        try:
            return self._invoke(event, request_id)
        finally:
            self.serving = None

    def _invoke(self, event: Any, request_id: str) -> Invocation:
        started = time.monotonic()
        deadline_ms = int(time.time() * 1000 + self.spec.timeout * 1000)
        request = {"id": request_id, "event": event, "deadline_ms": deadline_ms, "arn": self.spec.arn}
        try:
            assert self.process.stdin is not None
            self.process.stdin.write(json.dumps(request) + "\n")
            self.process.stdin.flush()
        except (BrokenPipeError, OSError):
            return self._exited(request_id, started)
        ready, _, _ = select.select([self._replies], [], [], None if self.debugging else self.spec.timeout)
        elapsed = (time.monotonic() - started) * 1000
        if not ready:
            self.kill()
            message = f"RequestId: {request_id} Error: Task timed out after {self.spec.timeout:.2f} seconds"
            return Invocation(request_id, error=_error(message, "Sandbox.Timedout", request_id), duration_ms=elapsed)
        line = self._replies.readline()
        if not line:
            return self._exited(request_id, started)
        reply = json.loads(line)
        self.modules.update(reply.get("modules", ()))
        self._flushed.wait(2)
        return Invocation(request_id, reply.get("result"), reply.get("error"), elapsed)

    def _exited(self, request_id: str, started: float) -> Invocation:
        self.kill()
        message = f"RequestId: {request_id} Error: Runtime exited with error: exit status {self.process.returncode}"
        elapsed = (time.monotonic() - started) * 1000
        return Invocation(request_id, error=_error(message, "Runtime.ExitError", request_id), duration_ms=elapsed)

    def kill(self) -> None:
        """Stop the process now (a hung or dead environment is never reused)."""
        if self.alive:
            self.process.kill()
        self.process.wait()
        self._close()

    def close(self, timeout: float = 5) -> None:
        """Let the process finish on end of input; kill it if it does not."""
        try:
            if self.process.stdin is not None:
                self.process.stdin.close()
            self.process.wait(timeout=timeout)
        except (subprocess.TimeoutExpired, OSError):
            self.process.kill()
            self.process.wait()
        self._close()

    def _close(self) -> None:
        self._replies.close()
        self._logs.join(timeout=2)
        # Every pipe of a finished process is closed here, not left to the garbage collector.
        for pipe in (self.process.stdin, self.process.stdout):
            if pipe is not None and not pipe.closed:
                pipe.close()


class FunctionPool:
    """A function's warm workers: reused while healthy, replaced after a timeout or a crash."""

    def __init__(
        self,
        spec: FunctionSpec,
        log: LogSink = print_sink,
        concurrency: int = 2,
        debug_port: int | None = None,
        observer: InvocationObserver | None = None,
    ) -> None:
        self.spec = spec
        self.log = log
        self.observer = observer
        self.debug_port = debug_port
        self.concurrency = 1 if debug_port is not None else concurrency  # one debug listener per port
        self._idle: list[Worker] = []
        self._busy: set[Worker] = set()
        self._count = 0
        self._cond = threading.Condition()
        self._closed = False
        self.generation = 0
        self.stats = FunctionStats()
        self.modules: set[str] = set()  # project files any of its workers imported (the reloader's map)

    def warm(self) -> None:
        """Start one worker ahead of the first invocation."""
        with self._cond:
            if self._count == 0 and not self._closed:
                self._count += 1
                self._idle.append(self._worker(self.generation))

    def wait_ready(self) -> int:
        """Wait until each of its workers has finished its init; how many did."""
        with self._cond:
            workers = [*self._idle, *self._busy]
        return sum(w._wait_ready() for w in workers)

    def imports(self, path: str) -> bool:
        """True when one of its workers has imported the file."""
        with self._cond:
            workers = [*self._idle, *self._busy]
        # A warm worker's imports are known once its init is over (it says so when it is ready).
        return path in self.modules or any(w._wait_ready() and path in w.modules for w in workers)

    def reload(self) -> str | None:
        """Start a worker on the code as it is now; once it imports cleanly, retire every older worker.

        Busy workers finish their invocation on the old code first (they retire on release). On an
        import error the old workers keep serving, and the error is returned as one line.
        """
        candidate = self._worker(self.generation + 1)
        error = candidate.start_error()
        if error is not None:
            candidate.kill()
            return error
        with self._cond:
            if self._closed:
                candidate.close()
                return None
            self.generation = candidate.generation
            stale, self._idle = self._idle, [candidate]
            self._count += 1 - len(stale)
            self._cond.notify_all()
        for worker in stale:
            worker.close()
        return None

    def invoke(self, event: Any) -> Invocation:
        """Invoke the handler in a warm worker; report errors as Lambda does, never raise."""
        request_id = str(uuid.uuid4())
        started = time.time()
        worker = self._acquire()
        try:
            outcome = worker.invoke(event, request_id)
        finally:
            self._release(worker)
        self._report(outcome)
        if self.observer is not None:
            self.observer.invoked(self.spec.logical_id, request_id, event, outcome, started, TRIGGER.get())
        return outcome

    def _acquire(self) -> Worker:
        with self._cond:
            while True:
                self._reap()
                if self._idle or self._count < self.concurrency or self._closed:
                    break
                self._cond.wait()
            if self._closed:
                raise RuntimeError(f"{self.spec.logical_id} is stopped")
            if self._idle:
                worker = self._idle.pop()
                self._busy.add(worker)
                return worker
            self._count += 1
            generation = self.generation
        try:
            worker = self._worker(generation)
        except Exception:
            with self._cond:
                self._count -= 1
                self._cond.notify()
            raise
        with self._cond:
            self._busy.add(worker)
        return worker

    def _worker(self, generation: int) -> Worker:
        return Worker(self.spec, self.log, generation, self.debug_port, self.observer)

    def _reap(self) -> None:
        # Lambda never reuses an environment whose process died (killed, out of memory) while idle.
        dead = [w for w in self._idle if not w.alive]
        for worker in dead:
            self._idle.remove(worker)
            self._count -= 1
            worker.kill()

    def _release(self, worker: Worker) -> None:
        with self._cond:
            self._busy.discard(worker)
            self.modules |= worker.modules
            if worker.alive and not self._closed and worker.generation == self.generation:
                self._idle.append(worker)
            else:
                self._count -= 1
                # A dead worker's pipes are closed too: nothing is left to the garbage collector.
                if worker.alive:
                    worker.close()
                else:
                    worker.kill()
            self._cond.notify()

    def _tally(self, outcome: Invocation) -> None:
        with self._cond:
            self.stats.invocations += 1
            if not outcome.ok and outcome.error is not None:
                self.stats.errors += 1
                self.stats.last_error = f"{outcome.error.get('errorType')}: {outcome.error.get('errorMessage', '')}"[
                    :300
                ]
                self.stats.last_error_at = time.time()

    def _report(self, outcome: Invocation) -> None:
        self._tally(outcome)
        status = "" if outcome.ok else f" Status: error ({outcome.error and outcome.error.get('errorType')})"
        self.log(
            f"[{self.spec.logical_id}] REPORT RequestId: {outcome.request_id} "
            f"Duration: {outcome.duration_ms:.1f} ms Memory Size: {self.spec.memory} MB{status}"
        )
        if outcome.error and outcome.error.get("errorType") in ("Sandbox.Timedout", "Runtime.ExitError"):
            self.log(f"[{self.spec.logical_id}] {outcome.error['errorMessage']}")

    def close(self) -> None:
        """Stop idle workers; invocations still running finish first (see LocalRuntime.stop)."""
        with self._cond:
            self._closed = True
            idle, self._idle = self._idle, []
            self._count -= len(idle)
            self._cond.notify_all()
        for worker in idle:
            worker.close()


def _debugger(port: int | None) -> list[str]:
    if port is None:
        return [sys.executable]
    # debugpy waits for the IDE before the handler is imported, so init breakpoints are hit too.
    return [sys.executable, "-m", "debugpy", "--listen", f"127.0.0.1:{port}", "--wait-for-client"]


def _error(message: str, error_type: str, request_id: str) -> dict[str, Any]:
    return {"errorMessage": message, "errorType": error_type, "requestId": request_id, "stackTrace": []}


def base_env() -> dict[str, str]:
    """The environment every local process starts from (the function's own variables go on top)."""
    # The worker sees the function's environment, not the developer's AWS profile or settings.
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR", "VIRTUAL_ENV", "PYTHONPATH", "COVERAGE_PROCESS_START")
    env = {k: v for k, v in os.environ.items() if k in keep or k.startswith(("COVERAGE_", "COV_CORE"))}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(PROJECT_ROOT), env.get("PYTHONPATH", "")) if p)
    return env
