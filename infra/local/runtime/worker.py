"""Warm worker processes: one Python process per execution environment, as Lambda keeps them."""

from __future__ import annotations

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
from pathlib import Path
from typing import IO, Any

from infra.local.runtime.bootstrap import LOGS_FLUSHED
from infra.local.runtime.functions import FunctionSpec

PROJECT_ROOT = Path(__file__).resolve().parents[3]
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


class Worker:
    """One warm process running one function's handler."""

    def __init__(self, spec: FunctionSpec, log: LogSink) -> None:
        self.spec = spec
        self.log = log
        reply_read, reply_write = os.pipe()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "infra.local.runtime.bootstrap", spec.handler, str(reply_write)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            pass_fds=(reply_write,),
            cwd=PROJECT_ROOT,
            env={**_base_env(), **spec.env, "PYTHONUNBUFFERED": "1"},
            text=True,
        )
        os.close(reply_write)
        self._replies: IO[str] = os.fdopen(reply_read, "r")
        self._logs = threading.Thread(target=self._pump_logs, name=f"logs-{spec.logical_id}", daemon=True)
        self._logs.start()
        self._ready = False
        self._flushed = threading.Event()

    def _wait_ready(self) -> bool:
        if not self._ready:
            ready, _, _ = select.select([self._replies], [], [], INIT_TIMEOUT)
            self._ready = bool(ready) and bool(self._replies.readline())
        return self._ready

    def _pump_logs(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            if line.rstrip("\n") == LOGS_FLUSHED:
                self._flushed.set()
                continue
            self.log(f"[{self.spec.logical_id}] {line.rstrip()}")

    @property
    def alive(self) -> bool:
        """True while the process runs."""
        return self.process.poll() is None

    def invoke(self, event: Any, request_id: str) -> Invocation:
        """Run the handler once; kill the process if it outlives the function's Timeout."""
        if not self._wait_ready():
            return self._exited(request_id, time.monotonic())
        self._flushed.clear()
        started = time.monotonic()
        deadline_ms = int(time.time() * 1000 + self.spec.timeout * 1000)
        request = {"id": request_id, "event": event, "deadline_ms": deadline_ms, "arn": self.spec.arn}
        try:
            assert self.process.stdin is not None
            self.process.stdin.write(json.dumps(request) + "\n")
            self.process.stdin.flush()
        except (BrokenPipeError, OSError):
            return self._exited(request_id, started)
        ready, _, _ = select.select([self._replies], [], [], self.spec.timeout)
        elapsed = (time.monotonic() - started) * 1000
        if not ready:
            self.kill()
            message = f"RequestId: {request_id} Error: Task timed out after {self.spec.timeout:.2f} seconds"
            return Invocation(request_id, error=_error(message, "Sandbox.Timedout", request_id), duration_ms=elapsed)
        line = self._replies.readline()
        if not line:
            return self._exited(request_id, started)
        reply = json.loads(line)
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

    def __init__(self, spec: FunctionSpec, log: LogSink = print_sink, concurrency: int = 2) -> None:
        self.spec = spec
        self.log = log
        self.concurrency = concurrency
        self._idle: list[Worker] = []
        self._count = 0
        self._cond = threading.Condition()
        self._closed = False

    def warm(self) -> None:
        """Start one worker ahead of the first invocation."""
        with self._cond:
            if self._count == 0 and not self._closed:
                self._count += 1
                self._idle.append(Worker(self.spec, self.log))

    def invoke(self, event: Any) -> Invocation:
        """Invoke the handler in a warm worker; report errors as Lambda does, never raise."""
        request_id = str(uuid.uuid4())
        worker = self._acquire()
        try:
            outcome = worker.invoke(event, request_id)
        finally:
            self._release(worker)
        self._report(outcome)
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
                return self._idle.pop()
            self._count += 1
        try:
            return Worker(self.spec, self.log)
        except Exception:
            with self._cond:
                self._count -= 1
                self._cond.notify()
            raise

    def _reap(self) -> None:
        # Lambda never reuses an environment whose process died (killed, out of memory) while idle.
        dead = [w for w in self._idle if not w.alive]
        for worker in dead:
            self._idle.remove(worker)
            self._count -= 1
            worker.kill()

    def _release(self, worker: Worker) -> None:
        with self._cond:
            if worker.alive and not self._closed:
                self._idle.append(worker)
            else:
                self._count -= 1
                # A dead worker's pipes are closed too: nothing is left to the garbage collector.
                if worker.alive:
                    worker.close()
                else:
                    worker.kill()
            self._cond.notify()

    def _report(self, outcome: Invocation) -> None:
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


def _error(message: str, error_type: str, request_id: str) -> dict[str, Any]:
    return {"errorMessage": message, "errorType": error_type, "requestId": request_id, "stackTrace": []}


def _base_env() -> dict[str, str]:
    # The worker sees the function's environment, not the developer's AWS profile or settings.
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR", "VIRTUAL_ENV", "PYTHONPATH", "COVERAGE_PROCESS_START")
    env = {k: v for k, v in os.environ.items() if k in keep or k.startswith(("COVERAGE_", "COV_CORE"))}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(PROJECT_ROOT), env.get("PYTHONPATH", "")) if p)
    return env
