"""When an EventBridge `rate(...)` or `cron(...)` schedule fires next (UTC)."""

from __future__ import annotations

import calendar
import re
from datetime import UTC, datetime, timedelta

_RATE = re.compile(r"^rate\((\d+)\s+(minute|minutes|hour|hours|day|days)\)$")
_UNITS = {"minute": 60, "hour": 3600, "day": 86400}
_MONTHS = {m.upper(): i for i, m in enumerate(calendar.month_abbr) if m}
_DAYS = {d: i + 1 for i, d in enumerate(("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"))}
# (low, high, names) of minutes, hours, day-of-month, month, day-of-week (1 = Sunday) and year.
_FIELDS: tuple[tuple[int, int, dict[str, int]], ...] = (
    (0, 59, {}),
    (0, 23, {}),
    (1, 31, {}),
    (1, 12, _MONTHS),
    (1, 7, _DAYS),
    (1970, 2199, {}),
)


def rate_seconds(expression: str) -> int | None:
    """The period of a `rate(...)` expression, in seconds; None for anything else."""
    match = _RATE.fullmatch(expression.strip())
    if not match:
        return None
    return int(match.group(1)) * _UNITS[match.group(2).rstrip("s")]


def next_fire(expression: str, after: datetime) -> datetime:
    """The first time strictly after `after` at which the schedule fires."""
    period = rate_seconds(expression)
    if period is not None:
        return after + timedelta(seconds=period)
    return Cron(expression).next_after(after)


def validate(expression: str) -> None:
    """Raise ValueError for an expression this runtime cannot schedule."""
    if rate_seconds(expression) is None:
        Cron(expression)


class Cron:
    """An AWS six-field cron expression (`*`, `?`, lists, ranges, steps and names; no L, W or #)."""

    def __init__(self, expression: str) -> None:
        match = re.fullmatch(r"cron\((.*)\)", expression.strip())
        parts = match.group(1).split() if match else []
        if len(parts) != 6:
            raise ValueError(f"not a schedule expression: {expression!r}")
        sets = [_parse(part, *spec) for part, spec in zip(parts, _FIELDS, strict=True)]
        self.minutes, self.hours, self.days, self.months, self.weekdays, self.years = sets
        self.any_day, self.any_weekday = parts[2] in ("*", "?"), parts[4] in ("*", "?")

    def _day_matches(self, day: datetime) -> bool:
        weekday = (day.weekday() + 1) % 7 + 1  # Monday=0 in Python; Sunday=1 in AWS
        if self.any_day:
            return weekday in self.weekdays
        if self.any_weekday:
            return day.day in self.days
        return day.day in self.days and weekday in self.weekdays

    def next_after(self, after: datetime) -> datetime:
        """The next matching minute after `after`."""
        start = after.astimezone(UTC).replace(second=0, microsecond=0) + timedelta(minutes=1)
        day = start.replace(hour=0, minute=0)
        for _ in range(366 * 8):
            if day.year in self.years and day.month in self.months and self._day_matches(day):
                for hour in sorted(self.hours):
                    for minute in sorted(self.minutes):
                        candidate = day.replace(hour=hour, minute=minute)
                        if candidate >= start:
                            return candidate
            day += timedelta(days=1)
        raise ValueError("schedule never fires")


def _parse(field: str, low: int, high: int, names: dict[str, int]) -> set[int]:
    if field in ("*", "?"):
        return set(range(low, high + 1))
    values: set[int] = set()
    for part in field.split(","):
        base, _, step_text = part.partition("/")
        step = int(step_text) if step_text else 1
        if base == "*":
            first, last = low, high
        elif "-" in base:
            first, last = (_value(v, names) for v in base.split("-", 1))
        else:
            first = _value(base, names)
            last = high if step_text else first
        if not low <= first <= last <= high:
            raise ValueError(f"cron field out of range: {field!r}")
        values.update(range(first, last + 1, step))
    return values


def _value(text: str, names: dict[str, int]) -> int:
    upper = text.upper()
    if upper in names:
        return names[upper]
    if not text.isdigit():
        raise ValueError(f"unsupported cron value: {text!r}")
    return int(text)
