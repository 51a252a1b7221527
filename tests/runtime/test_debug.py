"""`make run DEBUG=<LogicalId>`: that function's worker waits for an IDE, and its timeout is suspended."""

from __future__ import annotations

import json
import socket
import threading
import time

from infra.local.cloud import free_port
from infra.local.runtime import LocalRuntime
from infra.local.runtime.worker import Invocation
from infra.local.template import Stack
from tests.conftest import Logs
from tests.runtime.conftest import TEMPLATE


def dap(sock: socket.socket, seq: int, command: str, arguments: dict[str, object]) -> None:
    """One Debug Adapter Protocol request, as VS Code and PyCharm send them."""
    body = json.dumps({"seq": seq, "type": "request", "command": command, "arguments": arguments}).encode()
    sock.sendall(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))


def connect(port: int, timeout: float = 120) -> socket.socket:
    deadline = time.monotonic() + timeout
    while True:
        try:
            return socket.create_connection(("127.0.0.1", port), timeout=timeout)
        except OSError:
            assert time.monotonic() < deadline, "nothing listens for a debugger"
            time.sleep(0.1)


def test_the_debugged_worker_waits_for_the_ide_and_outlives_its_timeout(rt_stack: Stack, logs: Logs) -> None:
    port = free_port()
    runtime = LocalRuntime(rt_stack, template_dir=TEMPLATE.parent, log=logs, debug="ProbeSlow", debug_port=port)
    pool = runtime.pools["ProbeSlow"]
    outcomes: list[Invocation] = []
    # ProbeSlow's Timeout is 1 s: 2 s at a breakpoint would be a Sandbox.Timedout without the debugger.
    invocation = threading.Thread(target=lambda: outcomes.append(pool.invoke({"sleep": 2})))
    invocation.start()
    try:
        ide = connect(port)
        time.sleep(1.5)
        assert outcomes == []  # still waiting for the IDE, not timed out
        with ide:
            dap(ide, 1, "initialize", {"adapterID": "debugpy", "clientID": "test", "pathFormat": "path"})
            dap(ide, 2, "attach", {"justMyCode": True})
            dap(ide, 3, "configurationDone", {})
            invocation.join(timeout=60)
            assert [o.ok for o in outcomes] == [True], outcomes
    finally:
        pool.close()
        invocation.join(timeout=10)
