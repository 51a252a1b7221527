"""The local API: uvicorn in a child process, on a socket the supervisor binds once and keeps."""

from __future__ import annotations

import json
import os
import select
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from typing import IO

from infra.local.paths import PROJECT_ROOT
from infra.local.runtime.worker import LogSink

SOURCE = "ApiFunction"
START_TIMEOUT = 60
# After a reload the old process stops accepting, then has this long to read what it already accepted.
HAND_OVER = 3.0  # generous: a loaded laptop may take a while to read a request it accepted


class PortBusy(Exception):
    """The port is taken by another process."""


def listen(host: str, port: int) -> socket.socket:
    """A listening socket, bound before anything else starts; PortBusy when the port is taken."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise PortBusy(f"{host}:{port} is already in use ({exc.strerror})") from exc
    sock.listen(1024)
    sock.set_inheritable(True)
    return sock


class _Child:
    """One uvicorn process serving the app from the shared socket."""

    def __init__(self, sock: socket.socket, env: dict[str, str], log: LogSink) -> None:
        reply_read, reply_write = os.pipe()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "infra.local.api_server", str(sock.fileno()), str(reply_write)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            pass_fds=(sock.fileno(), reply_write),
            cwd=PROJECT_ROOT,
            env={**env, "PYTHONUNBUFFERED": "1"},
            text=True,
            start_new_session=True,  # Ctrl-C reaches the supervisor only; it stops the API gracefully
        )
        os.close(reply_write)
        self._replies: IO[str] = os.fdopen(reply_read, "r")
        self.modules: set[str] = set()
        self._pump = threading.Thread(target=self._pump_logs, args=(log,), name="logs-api", daemon=True)
        self._pump.start()

    def _pump_logs(self, log: LogSink) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            log(f"[{SOURCE}] {line.rstrip()}")

    def start_error(self) -> str | None:
        """Wait until the app is imported; None when it is, else one line: `file:line: message`."""
        ready, _, _ = select.select([self._replies], [], [], START_TIMEOUT)
        line = self._replies.readline() if ready else ""
        self._replies.close()
        if not line:
            return "the API process exited during start"
        hello = json.loads(line)
        error = hello.get("error")
        if error:
            return f"{error.get('where') or 'app.api.main'}: {error.get('errorType')}: {error.get('errorMessage')}"
        self.modules.update(hello.get("modules", ()))
        return None

    def stop(self, timeout: float = 30, hand_over: float = 0.0) -> None:
        """Stop accepting, wait `hand_over` seconds for accepted connections' requests, then SIGTERM:
        uvicorn finishes the requests in flight; killed after `timeout`."""
        if self.process.poll() is None and hand_over:
            self.process.send_signal(signal.SIGUSR1)
            time.sleep(hand_over)
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._pump.join(timeout=2)
        if self.process.stdout is not None:
            self.process.stdout.close()


class _Group:
    """Several uvicorn processes on the one socket: the kernel hands each connection to one of them.

    The app's async routes call blocking boto3 (right under Mangum, one request per environment), so one
    process serves one AWS call at a time; several processes serve concurrent requests as Lambda's
    concurrent environments do, without changing the Lambda path.
    """

    def __init__(self, sock: socket.socket, env: dict[str, str], log: LogSink, size: int) -> None:
        self.children = [_Child(sock, env, log) for _ in range(size)]  # started together, imported in parallel

    def start_error(self) -> str | None:
        """None once every process imported the app; else the first error line."""
        errors = [child.start_error() for child in self.children]
        return next((error for error in errors if error is not None), None)

    @property
    def modules(self) -> set[str]:
        """The source files any process imported."""
        return set().union(*(child.modules for child in self.children))

    def poll(self) -> int | None:
        """The exit code of the first process that ended, or None while all run."""
        return next((code for code in (c.process.poll() for c in self.children) if code is not None), None)

    @property
    def pid(self) -> int:
        """The first process's id (it names the group in messages)."""
        return self.children[0].process.pid

    def stop(self, timeout: float = 30, hand_over: float = 0.0) -> None:
        """Stop every process, in parallel."""
        threads = [
            threading.Thread(target=child.stop, args=(timeout, hand_over), name="api-stop", daemon=True)
            for child in self.children
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()


DEFAULT_API_WORKERS = 2


def workers_wanted(env: Mapping[str, str]) -> int:
    """API_WORKERS (1 to 16), else 2."""
    # A process serves one request at a time (the routes call boto3 as they do under Mangum, blocking), so the
    # processes are the concurrency: `make load` with 20 users gave 45 to 48 requests/s on 2, 62 to 68 on 4.
    # Two by default: on 2 cores, four new processes importing side by side made a reload 1.57 s, not 0.96 s.
    value = env.get("API_WORKERS", "")
    return max(1, min(16, int(value))) if value.isdigit() else DEFAULT_API_WORKERS


class ApiProcess:
    """The API on a fixed socket; `reload()` swaps in new processes only once their code imports."""

    def __init__(self, sock: socket.socket, env: dict[str, str], log: LogSink, workers: int = 1) -> None:
        self.sock = sock
        self.env = env
        self.log = log
        self.workers = workers
        self._current: _Group | None = None
        self._lock = threading.Lock()
        self._retiring: list[threading.Thread] = []

    def start(self) -> str | None:
        """Start the first process; an error line when the app does not import."""
        return self.reload()

    def reload(self) -> str | None:
        """Start a process on the code as it is now; retire the old one once the new one is ready."""
        with self._lock:
            candidate = _Group(self.sock, self.env, self.log, self.workers)
            error = candidate.start_error()
            if error is not None:
                candidate.stop(timeout=5)
                return error
            old, self._current = self._current, candidate
        if old is not None:
            # The old process drains its requests in the background: the new code answers meanwhile.
            retire = threading.Thread(target=old.stop, kwargs={"hand_over": HAND_OVER}, name="api-retire", daemon=True)
            retire.start()
            self._retiring.append(retire)
        return None

    def imports(self, path: str) -> bool:
        """True when the running API imported the file, or may import it lazily (anything under app/)."""
        current = self._current
        in_app = path.startswith(os.path.join(str(PROJECT_ROOT), "app") + os.sep)
        return in_app or (current is not None and path in current.modules)

    @property
    def alive(self) -> bool:
        """True while the serving process runs (or while none has started yet: nothing to restart)."""
        return self._current is None or self._current.poll() is None

    @property
    def exit_code(self) -> int | None:
        """How the serving process ended, if it did."""
        return None if self._current is None else self._current.poll()

    @property
    def pid(self) -> int | None:
        """The serving process's id."""
        return None if self._current is None else self._current.pid

    def stop(self) -> None:
        """Stop serving and close the socket."""
        with self._lock:
            if self._current is not None:
                self._current.stop()
                self._current = None
        for retire in self._retiring:
            retire.join()
        self.sock.close()
