"""docs/local.md's AWS → local table: every row names tests that exist, so a claim without proof fails."""

from __future__ import annotations

import ast
import re
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
DOC = TESTS.parent / "docs" / "local.md"
_REFERENCE = re.compile(r"`([^`]*)`")


def rows() -> list[list[str]]:
    table = [line for line in DOC.read_text().splitlines() if line.startswith("| ") and "---" not in line]
    return [[cell.strip() for cell in line.strip("|").split(" | ")] for line in table[1:]]


def names_in(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    return {n.name for n in tree.body if isinstance(n, ast.FunctionDef) and n.name.startswith("test_")}


def test_every_row_names_tests_that_exist() -> None:
    problems = []
    for row in rows():
        assert len(row) == 4, row[0]
        module: str | None = None
        references = _REFERENCE.findall(row[3])
        if not references:
            problems.append(f"{row[0]}: no test named")
        for reference in references:
            path, _, name = reference.partition("::")
            module = path or module
            if module is None or not (TESTS / module).is_file():
                problems.append(f"{row[0]}: no file tests/{module}")
            elif name and name not in names_in(TESTS / module):
                problems.append(f"{row[0]}: no {name} in tests/{module}")
    assert problems == []
