"""Reload on save: the API and every function worker that imported a changed file start on the new code.

The local cloud and its data are untouched: only processes are replaced. A replacement is started
first, and the old process is retired only once the new one has imported its code, so a file that
does not import leaves the last good code serving. Busy workers finish their invocation on the old
code; nothing is redelivered because of a reload.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Protocol

from infra.local.paths import PROJECT_ROOT
from infra.local.runtime.worker import LogSink

WATCHED = ("app", "workers")
INFRA_FILES = ("infra/template.yaml", "infra/statemachine")
# Two cores: more parallel starts only queue for the CPU, and the first answer comes later.
PARALLEL_STARTS = 2


class Reloadable(Protocol):
    """A process group that can say whether it imported a file, and restart on new code."""

    def imports(self, path: str) -> bool:
        """True when the file is part of its code."""
        ...

    def reload(self) -> str | None:
        """Restart on the current code; an error line when the new code does not import."""
        ...


def syntax_error(path: Path) -> str | None:
    """`file:line: SyntaxError: msg` when the file does not compile, else None (checked before any restart)."""
    try:
        compile(path.read_bytes(), str(path), "exec")
    except SyntaxError as exc:
        return f"{_relative(str(path))}:{exc.lineno or 0}: SyntaxError: {exc.msg}"
    except (OSError, ValueError):
        return None  # deleted or unreadable mid-save: the next event tells
    return None


def _forget_bytecode(path: str) -> None:
    # A .pyc is trusted by source mtime (1 s resolution) and size: a same-size save within the second
    # would run the old bytecode. Deleting it makes the next import compile the file as saved.
    import importlib.util

    with contextlib.suppress(OSError, ValueError):
        Path(importlib.util.cache_from_source(path)).unlink(missing_ok=True)


def _relative(path: str) -> str:
    root = str(PROJECT_ROOT) + "/"
    return path[len(root) :] if path.startswith(root) else path


class Reloader:
    """Watches the source folders and reloads what imported each changed file."""

    def __init__(
        self,
        targets: Callable[[], dict[str, Reloadable]],
        log: LogSink,
        on_infra_change: Callable[[list[str]], None] | None = None,
        root: Path = PROJECT_ROOT,
    ) -> None:
        self.targets = targets
        self.log = log
        self.on_infra_change = on_infra_change
        self.root = root
        self.reloads = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> Reloader:
        """Watch in a background thread."""
        self._thread = threading.Thread(target=self._watch, name="reload", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop watching."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _watch(self) -> None:
        from watchfiles import watch

        paths = [self.root / p for p in (*WATCHED, *INFRA_FILES) if (self.root / p).exists()]
        # step=50 ms: a save is acted on 50 ms after the editor stops writing, not after watchfiles' 1.6 s.
        for changes in watch(*paths, stop_event=self._stop, step=50, debounce=400, raise_interrupt=False):
            self.changed(sorted({path for _, path in changes}))

    def changed(self, paths: Iterable[str]) -> list[str]:
        """React to changed files; the names of what was reloaded."""
        paths = list(paths)
        infra = [p for p in paths if any(_relative(p).startswith(f) for f in INFRA_FILES)]
        if infra and self.on_infra_change is not None:
            self.on_infra_change(infra)
        sources = [p for p in paths if p.endswith(".py") and not _relative(p).startswith("infra/")]
        errors = [e for p in sources if (e := syntax_error(Path(p))) is not None]
        if errors:
            for error in errors:
                self.log(f"[reload] {error} (the last good code keeps serving)")
            return []
        if not sources:
            return []
        for path in sources:
            _forget_bytecode(path)
        targets = {name: t for name, t in self.targets().items() if any(t.imports(p) for p in sources)}
        return self._reload(targets, [_relative(p) for p in sources])

    def _reload(self, targets: dict[str, Reloadable], files: list[str]) -> list[str]:
        if not targets:
            self.log(f"[reload] {', '.join(files)}: no running process imports it yet")
            return []
        # The API first: it is what a person at the terminal tries next.
        names = sorted(targets, key=lambda n: (n != "ApiFunction", n))
        with ThreadPoolExecutor(PARALLEL_STARTS) as pool:
            outcomes = dict(zip(names, pool.map(lambda n: targets[n].reload(), names), strict=True))
        failed = {n: e for n, e in outcomes.items() if e is not None}
        for error in sorted(set(failed.values())):
            self.log(f"[reload] {error} (the last good code keeps serving)")
        done = [n for n in names if n not in failed]
        if done:
            self.reloads += 1
            self.log(f"[reload] {', '.join(files)} → reloaded {', '.join(done)}")
        return done
