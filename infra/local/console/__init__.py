"""The local console: what `make run` records, and the pages that show it (development tooling only)."""

from __future__ import annotations

import socket
from typing import TYPE_CHECKING

from infra.local.console.bus import watch
from infra.local.console.recorder import Recorder
from infra.local.paths import TEMPLATE_PATH
from infra.local.runtime.worker import LogSink

if TYPE_CHECKING:
    from infra.local.console.server import ConsoleServer
    from infra.local.runtime import LocalRuntime


class Recording:
    """The console's part of `make run`: the recorder's hooks now, the server once the runtime runs."""

    def __init__(self, sock: socket.socket | None, out: LogSink) -> None:
        self.sock = sock
        self.recorder = Recorder()
        # With the console off (CONSOLE=0) nothing is recorded: the sink and the runtime are left as they were.
        self.log = self.recorder.tap(out) if sock is not None else out
        self.observer = self.recorder if sock is not None else None
        self._unwatch = watch(self.recorder.bus_event) if sock is not None else None
        self._server: ConsoleServer | None = None

    def serve(self, runtime: LocalRuntime) -> None:
        """Start answering on the console's socket."""
        if self.sock is None:
            return
        from infra.local.console.app import Console, create_console
        from infra.local.console.resources import Resources
        from infra.local.console.server import ConsoleServer

        console = Console(runtime, self.recorder, Resources(runtime.stack), TEMPLATE_PATH.parent)
        self._server = ConsoleServer(create_console(console), self.sock).start()

    @property
    def url(self) -> str | None:
        """Where the console answers, when it does."""
        return self._server.url if self._server is not None else None

    def stop(self) -> None:
        """Stop serving and recording."""
        if self._server is not None:
            self._server.stop()
        if self._unwatch is not None:
            self._unwatch()
