"""The console's HTTP server: uvicorn in a thread of `make run`, asleep while nobody asks for a page."""

from __future__ import annotations

import asyncio
import socket
import threading

import uvicorn
from starlette.types import ASGIApp


class _QuietServer(uvicorn.Server):
    """uvicorn without its 100 ms housekeeping tick: an unopened console costs `make run` no CPU."""

    _wake: asyncio.Event | None = None
    _loop: asyncio.AbstractEventLoop | None = None

    async def main_loop(self) -> None:
        """Wait for the stop request instead of polling for it (the tick only refreshed the Date header)."""
        self._loop, self._wake = asyncio.get_running_loop(), asyncio.Event()
        await self.on_tick(0)
        if not self.should_exit:
            await self._wake.wait()

    def request_exit(self) -> None:
        """Stop serving (from any thread)."""
        self.should_exit = True
        if self._loop is not None and self._wake is not None:
            self._loop.call_soon_threadsafe(self._wake.set)


class ConsoleServer:
    """Serves the console's app on a socket that is already listening."""

    def __init__(self, app: ASGIApp, sock: socket.socket) -> None:
        self.sock = sock
        config = uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False, date_header=False)
        self._server = _QuietServer(config)
        self._thread = threading.Thread(target=self._server.run, args=([sock],), name="console", daemon=True)

    @property
    def url(self) -> str:
        """Where the console answers."""
        host, port = self.sock.getsockname()[:2]
        return f"http://{host}:{port}"

    def start(self) -> ConsoleServer:
        """Serve in a background thread."""
        self._thread.start()
        return self

    def stop(self, timeout: float = 5) -> None:
        """Stop serving; open pages see the console gone until it comes back."""
        self._server.request_exit()
        self._thread.join(timeout)
        self.sock.close()
