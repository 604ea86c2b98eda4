"""AWS schedule expressions: when ``rate(...)`` and ``cron(...)`` fire next.

``rate(5 minutes)`` fires every period from when the schedule starts. ``cron(...)`` has
AWS's six fields (minutes, hours, day of month, month, day of week, year), with ``?``
for "any" and days of the week numbered 1 (Sunday) to 7; croniter evaluates the first
five, in the schedule's timezone, after the day-of-week numbers are shifted to its 0-6,
and across daylight saving changes as EventBridge Scheduler does
(``sdk.schedules.cron.iter_fire_times``: a skipped local time does not fire, a repeated
one fires once).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from croniter import croniter

from sdk.errors import SteplineError
from sdk.schedules.cron import iter_fire_times

_RATE = re.compile(r"^rate\((?P<value>\d+)\s+(?P<unit>minutes?|hours?|days?)\)$")
_CRON = re.compile(r"^cron\((?P<fields>[^)]+)\)$")
_UNITS = {"minute": 60, "hour": 3600, "day": 86400}
_AWS_WEEKDAY = re.compile(r"(?<![#/\d])([1-7])(?!\d)")


class ScheduleExpressionError(SteplineError):
    """A schedule expression the emulator cannot evaluate."""


@dataclass(frozen=True)
class Rate:
    """``rate(value unit)``: every ``period``."""

    period: timedelta

    def next_after(self, moment: datetime) -> datetime | None:
        return moment + self.period


@dataclass(frozen=True)
class Cron:
    """``cron(...)`` with AWS's six fields, in ``timezone``."""

    fields: str  # croniter's five
    years: frozenset[int] | None  # None: every year
    timezone: str = "UTC"

    def next_after(self, moment: datetime) -> datetime | None:
        return next(iter_fire_times(self.fields, self.timezone, moment, self.years), None)


def _years(field: str) -> frozenset[int] | None:
    if field in ("*", "?"):
        return None
    years: set[int] = set()
    for part in field.split(","):
        first, _, last = part.partition("-")
        if not first.isdigit() or (last and not last.isdigit()):
            raise ScheduleExpressionError(f"unsupported year field {field!r}")
        years.update(range(int(first), int(last or first) + 1))
    return frozenset(years)


def parse(expression: str, timezone: str = "UTC") -> Rate | Cron:
    """A ``rate()`` or ``cron()`` expression; ``at()`` and anything else is refused."""
    text = expression.strip()
    rate = _RATE.match(text)
    if rate is not None:
        unit = rate["unit"].rstrip("s")
        seconds = int(rate["value"]) * _UNITS[unit]
        if seconds <= 0:
            raise ScheduleExpressionError(f"{expression!r}: a rate must be positive")
        return Rate(timedelta(seconds=seconds))
    cron = _CRON.match(text)
    if cron is not None:
        fields = cron["fields"].split()
        if len(fields) != 6:
            raise ScheduleExpressionError(f"{expression!r}: AWS cron has six fields")
        minutes, hours, day, month, weekday, year = fields
        weekday = _AWS_WEEKDAY.sub(lambda m: str(int(m[1]) - 1), weekday.replace("?", "*"))
        five = " ".join((minutes, hours, day.replace("?", "*"), month, weekday))
        if not croniter.is_valid(five):
            raise ScheduleExpressionError(f"{expression!r}: invalid cron fields")
        return Cron(five, _years(year), timezone)
    raise ScheduleExpressionError(f"unsupported schedule expression {expression!r}")
