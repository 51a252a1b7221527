"""Build the Lambda image's task root without Docker, from the Dockerfile's own steps (`make image`).

The Dockerfile is the one definition: its COPY instructions say what goes in, its pip install line the flags
(hashes from the lock, wheels only), and its compileall line the bytecode's invalidation mode. This reads them,
so the two cannot drift. `python -m infra.image <folder>` builds <folder>/var/task.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = ROOT / "Dockerfile"
REQUIREMENTS = ROOT / "requirements.txt"
# The Dockerfile's pip flags that choose what is installed (others, --no-cache-dir say, only tune pip itself).
_CHOOSING = ("--require-hashes", "--only-binary")
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


def pip_flags() -> list[str]:
    """The flags of the Dockerfile's `pip install` that choose what is installed, as uv takes them."""
    text = DOCKERFILE.read_text().replace("\\\n", " ")
    command = next(line for line in text.splitlines() if line.startswith("RUN pip install"))
    flags: list[str] = []
    for word in command.split():
        name, _, value = word.partition("=")
        if name in _CHOOSING:
            flags += [name, value] if value else [name]
    return flags


def invalidation_mode() -> str:
    """The bytecode invalidation mode of the Dockerfile's compileall step."""
    words = next(line for line in DOCKERFILE.read_text().splitlines() if "compileall" in line).split()
    return words[words.index("--invalidation-mode") + 1]


def build_task_root(target: Path) -> Path:
    """Install the runtime requirements into an empty folder and copy the code as the image does."""
    target.mkdir(parents=True)
    install = [uv(), "pip", "install", "--quiet", "--python", sys.executable, "--target", str(target)]
    subprocess.run([*install, *pip_flags(), "-r", str(REQUIREMENTS)], cwd=ROOT, check=True)
    for source, destination in copies():
        if source == "requirements.txt":
            continue
        shutil.copytree(
            ROOT / source, target / destination.split("}/", 1)[-1], ignore=shutil.ignore_patterns("__pycache__")
        )
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", "-j", "0", "--invalidation-mode", invalidation_mode(), str(target)],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return target


def main(argv: list[str]) -> int:
    """Build <folder>/var/task afresh (default build/image) and say where it is."""
    folder = Path(argv[0]) if argv else ROOT / "build" / "image"
    shutil.rmtree(folder, ignore_errors=True)
    root = build_task_root(folder / "var" / "task")
    print(f"task root: {root} (the image's LAMBDA_TASK_ROOT; run a handler with PYTHONPATH={root})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
