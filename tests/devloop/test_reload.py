"""Reload on save: a function's workers start on the new code, keep the old one on a broken save."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from infra.local.reload import Reloader
from infra.local.runtime.functions import FunctionSpec
from infra.local.runtime.worker import FunctionPool, Invocation
from tests.conftest import Logs

HANDLER = """
import time

VERSION = {version!r}


def handler(event, context):
    time.sleep(event.get("sleep", 0))
    return VERSION
"""


def write(module: Path, version: str) -> None:
    module.write_text(HANDLER.format(version=version))


@pytest.fixture
def module(tmp_path: Path) -> Path:
    path = tmp_path / "probe_reload.py"
    write(path, "v1")
    return path


@pytest.fixture
def pool(module: Path, logs: Logs) -> Iterator[FunctionPool]:
    spec = FunctionSpec(
        "ProbeReload",
        "probe-reload",
        "arn:aws:lambda:us-east-1:123456789012:function:probe-reload",
        "probe_reload.handler",
        timeout=30,
        memory=128,
        env={"PYTHONPATH": str(module.parent)},
    )
    pool = FunctionPool(spec, logs, concurrency=2)
    yield pool
    pool.close()


def saved(pool: FunctionPool, module: Path, logs: Logs) -> list[str]:
    """What the reloader does when the file is saved: the names it reloaded."""
    return Reloader(lambda: {"ProbeReload": pool}, logs, root=module.parent).changed([str(module)])


def test_a_save_serves_the_new_code_even_at_the_same_size_within_the_second(
    pool: FunctionPool, module: Path, logs: Logs
) -> None:
    assert pool.invoke({}).result == "v1"
    write(module, "v2")  # same size, same mtime second: the cached bytecode would still say v1

    assert saved(pool, module, logs) == ["ProbeReload"]
    assert pool.invoke({}).result == "v2"


def test_an_invocation_in_flight_finishes_on_the_old_code(pool: FunctionPool, module: Path, logs: Logs) -> None:
    pool.warm()
    assert pool.imports(str(module))  # the warm worker has imported v1 (waits for its init)
    outcomes: list[Invocation] = []
    busy = threading.Thread(target=lambda: outcomes.append(pool.invoke({"sleep": 2})))
    busy.start()
    deadline = time.monotonic() + 120
    while not pool._busy:  # the slow invocation has its worker: it runs on the old code
        assert time.monotonic() < deadline, "the invocation never started"
        time.sleep(0.05)
    write(module, "v2")

    assert saved(pool, module, logs) == ["ProbeReload"]
    after = pool.invoke({})
    busy.join()

    assert [o.result for o in outcomes] == ["v1"]  # delivered once, answered by the code it started on
    assert after.result == "v2"


def test_an_import_error_keeps_the_last_good_code_and_the_fix_reloads(
    pool: FunctionPool, module: Path, logs: Logs
) -> None:
    assert pool.invoke({}).result == "v1"
    module.write_text("def handler(event, context):\n    return 1\nundefined_name_at_import\n")

    assert saved(pool, module, logs) == []
    (line,) = [line for line in logs if line.startswith("[reload]")]
    assert line.startswith(f"[reload] {module}:3: name 'undefined_name_at_import' is not defined")
    assert pool.invoke({}).result == "v1"
    write(module, "v3")
    assert saved(pool, module, logs) == ["ProbeReload"]
    assert pool.invoke({}).result == "v3"


def test_a_pool_knows_the_files_its_workers_imported(pool: FunctionPool, module: Path) -> None:
    pool.warm()

    assert pool.imports(str(module))
    assert not pool.imports(str(module.with_name("other.py")))


class Target:
    def __init__(self, files: set[str], error: str | None = None) -> None:
        self.files = files
        self.error = error
        self.reloaded = 0

    def imports(self, path: str) -> bool:
        return path in self.files

    def reload(self) -> str | None:
        self.reloaded += 1
        return self.error


def test_a_save_reloads_only_what_imported_the_file(tmp_path: Path, logs: Logs) -> None:
    saved, other = tmp_path / "saved.py", tmp_path / "other.py"
    saved.write_text("X = 1\n")
    targets = {"ApiFunction": Target({str(saved)}), "CleanupFunction": Target({str(other)})}

    done = Reloader(lambda: dict(targets), logs, root=tmp_path).changed([str(saved)])

    assert done == ["ApiFunction"]
    assert (targets["ApiFunction"].reloaded, targets["CleanupFunction"].reloaded) == (1, 0)


def test_a_syntax_error_is_one_line_with_file_and_line_and_nothing_restarts(tmp_path: Path, logs: Logs) -> None:
    saved = tmp_path / "saved.py"
    saved.write_text("def broken(:\n    pass\n")
    target = Target({str(saved)})

    done = Reloader(lambda: {"ApiFunction": target}, logs, root=tmp_path).changed([str(saved)])

    assert (done, target.reloaded) == ([], 0)
    (line,) = logs
    assert f"{saved}:1: SyntaxError" in line
    assert "last good code keeps serving" in line
