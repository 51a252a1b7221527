"""Small statistics helpers and the result type every benchmark returns."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field


@dataclass
class Comparison:
    """One figure: the service against its baseline, both measured in this run."""

    name: str
    unit: str
    ours: list[float]
    baseline: list[float]
    target: float | None
    notes: list[str] = field(default_factory=list)

    @property
    def ratio(self) -> float:
        """Median of ours over median of the baseline."""
        return median(self.ours) / median(self.baseline)

    @property
    def verdict(self) -> str:
        """'met', 'MISSED' or '-' when there is no target."""
        if self.target is None:
            return "-"
        return "met" if self.ratio <= self.target else "MISSED"


def median(values: list[float]) -> float:
    """The median."""
    return float(statistics.median(values))


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100), nearest rank."""
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered)) - 1))
    return ordered[index]
