"""Compare recorded calls with each function's grants: missing and unexercised permissions."""

from __future__ import annotations

from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import yaml

from infra.iam.actions import IamRequest
from infra.iam.policy import Grant, allowed

ALLOWLIST_PATH = Path(__file__).resolve().parents[1] / "iam-allowlist.yaml"


@dataclass(frozen=True)
class Allowance:
    """A permission kept although no test exercises it, and why."""

    function: str
    action: str
    resource: str
    reason: str

    def covers(self, grant: Grant) -> bool:
        """Whether this entry excuses the grant (globs on function, action and resource)."""
        return (
            fnmatchcase(grant.function, self.function)
            and fnmatchcase(grant.action.lower(), self.action.lower())
            and fnmatchcase(grant.resource, self.resource)
        )


def load_allowlist(path: Path = ALLOWLIST_PATH) -> list[Allowance]:
    """The allow-list entries; each must give a non-empty reason."""
    entries: list[dict[str, Any]] = yaml.safe_load(path.read_text()) or []
    result = []
    for entry in entries:
        reason = str(entry.get("reason", "")).strip()
        if not reason:
            raise ValueError(f"allow-list entry without a reason: {entry}")
        result.append(Allowance(entry["function"], entry["action"], entry.get("resource", "*"), reason))
    return result


@dataclass
class Report:
    """The outcome of one check."""

    missing: list[tuple[str, IamRequest]] = field(default_factory=list)
    unexercised: list[Grant] = field(default_factory=list)
    excused: list[tuple[Grant, str]] = field(default_factory=list)
    unused_allowances: list[Allowance] = field(default_factory=list)
    exercised: list[Grant] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-friendly form, for the report file."""
        return {
            "missing": [{"function": f, "action": r.action, "resource": r.resource} for f, r in self.missing],
            "unexercised": [_grant(g) for g in self.unexercised],
            "excused": [{**_grant(g), "reason": reason} for g, reason in self.excused],
            "unused_allowances": [a.__dict__ for a in self.unused_allowances],
            "exercised": [_grant(g) for g in self.exercised],
        }


def _grant(grant: Grant) -> dict[str, str]:
    return {"function": grant.function, "action": grant.action, "resource": grant.resource, "source": grant.source}


def check(
    recorded: dict[str, set[IamRequest]],
    grants: dict[str, list[Grant]],
    allowlist: list[Allowance],
) -> Report:
    """Missing: a recorded request of a function that its grants do not allow. Unexercised: the reverse."""
    report = Report()
    used: set[Grant] = set()
    for function in sorted(set(recorded) & set(grants)):
        for request in sorted(recorded[function]):
            matching = allowed(grants[function], request)
            if not matching:
                report.missing.append((function, request))
            used.update(matching)
    used_allowances: set[Allowance] = set()
    for function in sorted(grants):
        for grant in grants[function]:
            if grant.effect != "Allow":
                continue
            if grant in used:
                report.exercised.append(grant)
                continue
            excuse = next((a for a in allowlist if a.covers(grant)), None)
            if excuse is None:
                report.unexercised.append(grant)
            else:
                used_allowances.add(excuse)
                report.excused.append((grant, excuse.reason))
    report.unused_allowances = [a for a in allowlist if a not in used_allowances]
    return report
