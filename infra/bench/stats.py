"""Small statistics helpers and the result type every benchmark returns."""

from __future__ import annotations

import random
import statistics
from dataclasses import dataclass, field
from functools import cached_property


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

    @cached_property
    def interval(self) -> tuple[float, float]:
        """A 95% bootstrap confidence interval of the ratio (each side resampled on its own; seeded)."""
        draw = random.Random(20261130)
        ratios = sorted(
            median(draw.choices(self.ours, k=len(self.ours)))
            / median(draw.choices(self.baseline, k=len(self.baseline)))
            for _ in range(_RESAMPLES)
        )
        return ratios[int(0.025 * _RESAMPLES)], ratios[int(0.975 * _RESAMPLES) - 1]

    @property
    def verdict(self) -> str:
        """'met' or 'MISSED' when the whole interval is on one side of the target, 'spread crosses goal' if not."""
        if self.target is None:
            return "-"
        low, high = self.interval
        if high <= self.target:
            return "met"
        if low > self.target:
            return "MISSED"
        return "spread crosses goal"


_RESAMPLES = 2000


def median(values: list[float]) -> float:
    """The median."""
    return float(statistics.median(values))


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100), nearest rank."""
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered)) - 1))
    return ordered[index]
