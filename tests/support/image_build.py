"""Build the Lambda image's task root without Docker: what the Dockerfile does, step by step."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"
REQUIREMENTS = ROOT / "requirements.txt"
# The Dockerfile's pip flags: hashes from the lock, wheels only.
INSTALL_ARGS = ["--require-hashes", "--only-binary", ":all:", "-r", str(REQUIREMENTS)]
EXPORT_ARGS = ["export", "--frozen", "--no-dev", "--no-emit-project", "--format", "requirements-txt"]


def uv() -> str:
    """The uv binary the Makefile installs (or one on PATH)."""
    local = ROOT / ".uv" / "bin" / "uv"
    found = str(local) if local.exists() else shutil.which("uv")
    if found is None:
        raise RuntimeError("uv is missing: run `make install`")
    return found


def exported_requirements() -> str:
    """What `make requirements` writes: the lock's runtime dependencies, hashed."""
    return subprocess.run([uv(), *EXPORT_ARGS], cwd=ROOT, check=True, capture_output=True, text=True).stdout


def copies() -> list[tuple[str, str]]:
    """(source, destination) of every COPY instruction of the Dockerfile."""
    found = []
    for line in DOCKERFILE.read_text().splitlines():
        match = re.match(r"^COPY\s+(?:--\S+\s+)*(\S+)\s+(\S+)\s*$", line)
        if match:
            found.append((match.group(1), match.group(2)))
    return found


def build_task_root(target: Path) -> Path:
    """Install the runtime requirements into an empty folder and copy the code as the image does."""
    target.mkdir(parents=True)
    subprocess.run(
        [uv(), "pip", "install", "--quiet", "--python", sys.executable, "--target", str(target), *INSTALL_ARGS],
        cwd=ROOT,
        check=True,
    )
    for source, destination in copies():
        if source == "requirements.txt":
            continue
        shutil.copytree(
            ROOT / source, target / destination.split("}/", 1)[-1], ignore=shutil.ignore_patterns("__pycache__")
        )
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", "-j", "0", "--invalidation-mode", "unchecked-hash", str(target)],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return target
