"""Inside the local API process: import the app, say so on a pipe, then serve on the inherited socket.

The supervisor owns the listening socket, so a reload starts a new process on the same socket while
the old one finishes its requests: no connection is refused in between.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
from typing import Any

import uvicorn

from infra.local.runtime.bootstrap import ModuleReport, error_of, where


class HandOverServer(uvicorn.Server):
    """uvicorn that, on SIGUSR1, stops accepting while it keeps serving what it already accepted.

    During a reload two processes accept on the shared socket. A connection the old one accepted but
    had not read yet would be closed by uvicorn's shutdown as idle; so the old process first stops
    accepting (SIGUSR1), and only after a grace period gets SIGTERM and finishes its requests.
    """

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        """Start as uvicorn does, then listen for SIGUSR1 and watch the supervisor."""
        await super().startup(sockets)
        asyncio.get_running_loop().add_signal_handler(signal.SIGUSR1, self.stop_accepting)
        self._orphan_watch = asyncio.get_running_loop().create_task(self._exit_when_orphaned(os.getppid()))

    async def _exit_when_orphaned(self, parent: int) -> None:
        """Stop when the supervisor is gone (a `kill -9` of it): this process runs in its own session, so
        nothing else would ever stop it, and it would hold the port."""
        while os.getppid() == parent:
            await asyncio.sleep(1)
        self.should_exit = True

    def stop_accepting(self) -> None:
        """Close this process's listeners; the shared socket stays open in the new process."""
        for server in self.servers:
            server.close()


def _report(reply_fd: int, message: dict[str, Any]) -> None:
    with os.fdopen(reply_fd, "w") as replies:
        replies.write(json.dumps(message) + "\n")


def main(argv: list[str]) -> int:
    """`python -m infra.local.api_server SOCKET_FD REPLY_FD`."""
    sock_fd, reply_fd = int(argv[0]), int(argv[1])
    try:
        from app.api.main import create_app

        app = create_app()
    except Exception as exc:  # noqa: BLE001 - any import failure is reported as one line, the old code serves on
        _report(reply_fd, {"error": {**error_of(exc), "where": where(exc)}})
        return 1
    _report(reply_fd, {"ready": True, "modules": ModuleReport().new()})
    config = uvicorn.Config(app, lifespan="off", access_log=False, log_level="warning", timeout_graceful_shutdown=30)
    HandOverServer(config).run(sockets=[socket.socket(fileno=sock_fd)])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
