"""Every function, from the image's task root, under AWS's own runtime client answers as under `make invoke`.

The task root is built as the Dockerfile builds it (`make image`, infra/image.py). Each function's sample event is
served by a small Lambda Runtime API in this test to `python -m awslambdaric <ImageConfig.Command>`, run with the
function's environment on the local cloud and nothing but the task root and the runtime client on its path, as
in the base image. The same event then goes through the local runtime, as `make invoke` sends it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.bootstrap import get_container
from infra.image import ROOT, build_task_root, uv
from infra.local.runtime.functions import FUNCTION_TYPES, spec_of
from infra.local.runtime.invoke import default_event
from infra.local.runtime.worker import FunctionPool
from infra.local.template import Stack
from tests.support.order_helpers import add_users
from tests.support.tokens import Signer

pytestmark = pytest.mark.slow
START = (
    "import runpy, sys\n"
    "sys.path[:0] = [sys.argv[1], sys.argv[2]]\n"
    "sys.argv = ['awslambdaric', sys.argv[3]]\n"
    "runpy.run_module('awslambdaric', run_name='__main__')\n"
)


class RuntimeApi(BaseHTTPRequestHandler):
    """The Runtime API's invocation calls for one event: `next` hands it out once, then waits; answers are kept."""

    protocol_version = "HTTP/1.1"  # the client's HTTP library waits on an HTTP/1.0 reply until the socket closes
    event: bytes = b"{}"
    request_id = ""
    handed = False
    answer: dict[str, Any] = {}
    done = threading.Event()

    def do_GET(self) -> None:
        if self.path != "/2018-06-01/runtime/invocation/next" or RuntimeApi.handed:
            RuntimeApi.done.wait(120)  # the one invocation is over: the process is stopped meanwhile
            return
        RuntimeApi.handed = True
        self.send_response(200)
        self.send_header("Lambda-Runtime-Aws-Request-Id", RuntimeApi.request_id)
        self.send_header("Lambda-Runtime-Deadline-Ms", "9999999999999")
        self.send_header("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:123456789012:function:f")
        self.send_header("Lambda-Runtime-Trace-Id", "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=0")
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(RuntimeApi.event)))
        self.end_headers()
        self.wfile.write(RuntimeApi.event)

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        kind = self.path.rsplit("/", 1)[-1]  # response, error (invocation/<id>/...) or init/error
        RuntimeApi.answer = {"kind": kind, "body": json.loads(body or b"null")}
        self.send_response(202)
        self.send_header("Content-Length", "0")
        self.end_headers()
        RuntimeApi.done.set()

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture(scope="module")
def task_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The image's LAMBDA_TASK_ROOT, built as the Dockerfile builds it."""
    return build_task_root(tmp_path_factory.mktemp("image") / "var" / "task")


@pytest.fixture(scope="module")
def runtime_client(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """awslambdaric and what it needs, in a folder of their own (the base image has them in its Python)."""
    folder = tmp_path_factory.mktemp("runtime")
    version = next(
        line.split("==")[1].split()[0]
        for line in subprocess.run(
            [uv(), "export", "--frozen", "--only-dev", "--no-emit-project", "--no-hashes"],
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.splitlines()
        if line.startswith("awslambdaric==")
    )
    install = [uv(), "pip", "install", "--quiet", "--python", sys.executable, "--target", str(folder)]
    subprocess.run([*install, f"awslambdaric=={version}"], cwd=ROOT, check=True)
    return folder


@pytest.fixture
def api() -> Iterator[str]:
    RuntimeApi.handed, RuntimeApi.answer = False, {}
    RuntimeApi.done = threading.Event()
    server = ThreadingHTTPServer(("127.0.0.1", 0), RuntimeApi)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"127.0.0.1:{server.server_address[1]}"
    RuntimeApi.done.set()
    server.shutdown()
    server.server_close()


def under_runtime_client(
    stack: Stack, logical_id: str, event: Any, task_root: Path, runtime: Path, api: str
) -> dict[str, Any]:
    """One invocation through awslambdaric: its answer (response, error, or init error)."""
    spec = spec_of(stack, logical_id)
    RuntimeApi.event, RuntimeApi.request_id = json.dumps(event).encode(), str(uuid.uuid4())
    env = {k: v for k, v in spec.env.items() if k != "PYTHONPATH"}
    env |= {"AWS_LAMBDA_RUNTIME_API": api, "LAMBDA_TASK_ROOT": str(task_root), "_HANDLER": spec.handler}
    env |= {"PATH": os.environ.get("PATH", ""), "HOME": str(task_root.parent)}
    command = [sys.executable, "-I", "-S", "-c", START, str(task_root), str(runtime), spec.handler]
    process = subprocess.Popen(command, cwd=task_root, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        assert RuntimeApi.done.wait(120), f"{logical_id}: no answer under awslambdaric"
    finally:
        process.kill()
        output = process.communicate(timeout=30)[0].decode(errors="replace")
    assert RuntimeApi.answer, output[-3000:]
    return RuntimeApi.answer


def outcome(ok: bool, body: Any) -> tuple[bool, Any]:
    """What must agree: success or failure; the error's type; a reply's shape (its keys, or its type)."""
    if not ok:
        return False, body.get("errorType") if isinstance(body, dict) else body
    return True, sorted(body) if isinstance(body, dict) else type(body).__name__


@pytest.fixture
def placed(client: TestClient, auth: Signer) -> str:
    """An order placed through the API, so that the workflow tasks' samples (the newest order) have one."""
    container = get_container()
    add_users(container, "ada")
    container.catalog.put("mug", "Mug", 1250, "USD")
    container.catalog.restock("mug", 10)
    body = {"items": [{"productId": "mug", "quantity": 1}], "paymentToken": "tok_visa"}
    reply = client.post("/orders", json=body, headers=auth.user("ada"))
    assert reply.status_code == 202, reply.text
    return str(reply.json()["id"])


def test_every_function_answers_under_aws_s_runtime_client_as_under_make_invoke(
    stack: Stack, task_root: Path, runtime_client: Path, api: str, placed: str
) -> None:
    # Each function runs twice on the same state, first under awslambdaric: every step is idempotent, so a
    # re-run answers as the first run did (the order moves through the tasks in the order of their names).
    functions = sorted(stack.of_type(*FUNCTION_TYPES))
    assert len(functions) == 16
    compared = {}
    for logical_id in functions:
        pool = FunctionPool(spec_of(stack, logical_id), lambda _: None)
        try:
            event = default_event(pool, stack)
            RuntimeApi.handed, RuntimeApi.answer, RuntimeApi.done = False, {}, threading.Event()
            answer = under_runtime_client(stack, logical_id, event, task_root, runtime_client, api)
            local = pool.invoke(event)
        finally:
            pool.close()
        assert answer["kind"] != "error" or answer["body"].get("errorType") != "Runtime.ImportModuleError", answer
        ric = outcome(answer["kind"] == "response", answer["body"])
        compared[logical_id] = (ric, outcome(local.ok, local.result if local.ok else local.error))
    differing = {k: v for k, v in compared.items() if v[0] != v[1]}
    assert differing == {}, differing
    answered = {k for k, ((ok, _), _) in compared.items() if ok}
    assert {"ApiFunction", "AuthorizerFunction", "CheckInventoryFunction", "ValidateOrderFunction"} <= answered
