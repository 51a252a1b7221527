"""The days the daily analytics can hold and be asked for."""

from __future__ import annotations

from datetime import date

MAX_RANGE_DAYS = 92
# Far from date.min and date.max, so date arithmetic never overflows.
FIRST_DAY = date(2000, 1, 1)
LAST_DAY = date(2999, 12, 31)
