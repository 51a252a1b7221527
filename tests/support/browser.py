"""Debian's chromium for the browser tests: where it is, and the flags this machine's closed network needs."""

from __future__ import annotations

import shutil

# Without the background-networking flags chromium keeps trying Google's hosts, which this network refuses.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium() -> str:
    """The chromium binary that `make test` installs."""
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    assert path, "make test installs chromium; run it through make"
    return path
