"""The light template loader reads every template exactly as cfn-lint's decoder does."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from cfnlint.decode import cfn_yaml as reference

from infra.local import cfn_yaml

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = sorted(
    p for p in [*ROOT.glob("infra/*.yaml"), *ROOT.glob("tests/**/template*.yaml")] if "Resources" in p.read_text()
)


def plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return str(value) if isinstance(value, str) else value


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: str(p.relative_to(ROOT)))
def test_same_tree_as_cfn_lint(path: Path) -> None:
    assert cfn_yaml.load(path) == plain(reference.load(str(path)))


def test_short_forms(tmp_path: Path) -> None:
    source = tmp_path / "t.yaml"
    source.write_text(
        "A: !Ref X\nB: !GetAtt Q.Arn\nC: !Sub '${X}-y'\nD: !If [Cond, !Ref X, !Join ['-', [a, b]]]\nE: !Condition C1\n"
    )
    assert cfn_yaml.load(source) == {
        "A": {"Ref": "X"},
        "B": {"Fn::GetAtt": ["Q", "Arn"]},
        "C": {"Fn::Sub": "${X}-y"},
        "D": {"Fn::If": ["Cond", {"Ref": "X"}, {"Fn::Join": ["-", ["a", "b"]]}]},
        "E": {"Condition": "C1"},
    }
