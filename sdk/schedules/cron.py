"""Cron expressions: the 5-field form users write, AWS's 6-field form, and fire times.

``check_cron`` accepts the classic five fields (minute, hour, day of month, month, day of
week) made of numbers, ``*``, ranges ``a-b``, steps ``/n``, lists and the names ``JAN``-``DEC``
and ``SUN``-``SAT``, where day 0 and day 7 are both Sunday. It refuses, naming the reason,
what EventBridge Scheduler cannot express: a day of the month *and* a day of the week both
restricted (classic cron runs when either matches; AWS takes one of the two, the other
``?``), and the extensions AWS spells differently or classic cron lacks (``L``, ``W``,
``#``, ``?``, ``H``, ``@daily``).

``aws_expression`` gives the ``cron(...)`` AWS takes for it: six fields, the unrestricted
day field ``?``, days of the week as names (AWS numbers them 1 = Sunday to 7 = Saturday),
no ``/`` in the day-of-week field (AWS does not take one there), and ``*`` for the year.

``fire_times`` says when a schedule fires in its time zone, the way EventBridge Scheduler
does across daylight saving changes (``docs/semantics.md``, "Schedules"): a local time the
spring-forward night skips does not fire that day; a local time the fall-back night repeats
fires once, at its first occurrence.

croniter is imported where it is used: importing it is slow, and most processes (a
deployed runner) never need it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sdk.errors import InvalidScheduleError

FIELDS = ("minute", "hour", "day of month", "month", "day of week")
_BOUNDS = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 6))
_LIMITS = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 7))  # as written: day 7 is Sunday too
_MONTH_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_DAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
_ATOM = r"(?:\*|[0-9]+|[A-Za-z]{3})"
_TERM = rf"{_ATOM}(?:-{_ATOM})?(?:/[0-9]+)?"
_FIELD = re.compile(rf"^{_TERM}(?:,{_TERM})*$")
_NAME = re.compile(r"[A-Za-z]{3}")
# How far ahead a cron is searched for its next time: a date like Feb 30 never comes.
_SEARCH_YEARS = 30


def check_cron(cron: Any) -> str:
    """``cron`` normalised to single spaces, if it is a 5-field cron AWS can express.

    Raises:
        InvalidScheduleError: naming the field and what is wrong with it.
    """
    if not isinstance(cron, str):
        raise InvalidScheduleError(f"a cron expression must be a string, got {cron!r}")
    fields = cron.split()
    if len(fields) != 5:
        raise InvalidScheduleError(
            f"{cron!r} is not a valid 5-field cron expression (minute hour day-of-month "
            f"month day-of-week): it has {len(fields)} field(s)"
        )
    for name, text in zip(FIELDS, fields, strict=True):
        if not _FIELD.match(text):
            raise InvalidScheduleError(
                f"{cron!r}: the {name} field {text!r} is not made of numbers, names, '*', "
                "'-', '/' and ',' (L, W, #, ? and H are not supported)"
            )
    names = [bool(_NAME.search(text)) for text in fields]
    if any(names[:3]):
        field = FIELDS[names.index(True)]
        raise InvalidScheduleError(f"{cron!r}: the {field} field takes numbers only")
    normal = " ".join(fields)
    try:
        values = [_expand(text, index) for index, text in enumerate(fields)]
    except InvalidScheduleError as exc:
        raise InvalidScheduleError(
            f"{cron!r} is not a valid 5-field cron expression: {exc}"
        ) from None
    from croniter import croniter

    if not croniter.is_valid(normal):
        raise InvalidScheduleError(
            f"{cron!r} is not a valid 5-field cron expression: {_why(normal)}"
        )
    if not any(min(values[2]) <= _MONTH_DAYS[month - 1] for month in values[3]):
        raise InvalidScheduleError(
            f"{cron!r} never fires: no month it names has the day of the month it names"
        )
    day, weekday = fields[2], fields[4]
    if day != "*" and weekday != "*":
        raise InvalidScheduleError(
            f"{cron!r} restricts both the day of the month ({day}) and the day of the week "
            f"({weekday}); EventBridge Scheduler takes only one of them: use '*' for the other"
        )
    return normal


def _why(cron: str) -> str:
    from croniter import croniter

    try:
        croniter(cron)
    except Exception as exc:  # croniter's CroniterBadCronError and friends
        return str(exc)
    return "rejected by croniter"


def check_timezone(timezone: Any) -> str:
    """``timezone`` if it names an IANA zone (``Europe/Paris``, ``UTC``)."""
    if not isinstance(timezone, str) or not timezone:
        raise InvalidScheduleError(f"a timezone must be a non-empty string, got {timezone!r}")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidScheduleError(
            f"unknown timezone {timezone!r} (use an IANA name such as 'Europe/Paris' or 'UTC')"
        ) from None
    return timezone


def _number(atom: str, index: int) -> int:
    if atom.isdigit():
        return int(atom)
    names = _MONTHS if index == 3 else _DAYS if index == 4 else ()
    if atom.upper() not in names:
        raise InvalidScheduleError(f"the {FIELDS[index]} field has no value {atom!r}")
    return names.index(atom.upper()) + (1 if index == 3 else 0)


def _expand(text: str, index: int) -> set[int]:
    """The values of field ``index`` written ``text``, as classic cron reads them: ``a-a`` is
    ``a``, ``a/n`` runs from ``a`` to the field's end, ``b-a`` (b > a) wraps round; day 7 is
    day 0. (croniter 7 reads ``a-a`` as ``*``, and day-of-week ``7/2`` as ``*/2``.)"""
    low, high = _LIMITS[index]
    found: set[int] = set()
    for term in text.split(","):
        span, slash, step_text = term.partition("/")
        step = int(step_text) if step_text.isdigit() else 0
        if slash and step == 0:
            raise InvalidScheduleError(f"the {FIELDS[index]} field has a bad step in {term!r}")
        if span == "*":
            first, last = low, high
        else:
            start, dash, end = span.partition("-")
            first = _number(start, index)
            last = _number(end, index) if dash else (high if slash else first)
        if not (low <= first <= high and low <= last <= high):
            raise InvalidScheduleError(
                f"the {FIELDS[index]} field's {term!r} is outside {low}-{high}"
            )
        if first <= last:
            run = list(range(first, last + 1))
        else:  # wraps round the end of the field
            run = [*range(first, high + 1), *range(low, last + 1)]
        found.update(run[:: step or 1])
    return {v % 7 for v in found} if index == 4 else found


def _values(cron: str) -> list[set[int] | None]:
    """Each field's values (``None``: every value), day 7 folded onto day 0."""
    values: list[set[int] | None] = []
    for index, text in enumerate(cron.split()):
        found = _expand(text, index)
        low, high = _BOUNDS[index]
        values.append(None if found == set(range(low, high + 1)) else found)
    return values


def _explicit(cron: str) -> str:
    """``cron`` with every field spelled as a plain list, which croniter reads right; a
    cron outside the classic grammar (an AWS form's ``L``, ``#``) is left as it is."""
    try:
        values = _values(cron)
    except (InvalidScheduleError, ValueError):
        return cron
    return " ".join("*" if v is None else ",".join(map(str, sorted(v))) for v in values)


def _runs(values: list[int]) -> list[tuple[int, int]]:
    runs: list[tuple[int, int]] = []
    for value in values:
        if runs and value == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], value)
        else:
            runs.append((value, value))
    return runs


def _render(values: set[int], index: int) -> str:
    ordered = sorted(values)
    low, high = _BOUNDS[index]
    name = (lambda v: _DAYS[v]) if index == 4 else str
    if index != 4 and len(ordered) >= 3:
        step = ordered[1] - ordered[0]
        progression = all(b - a == step for a, b in zip(ordered, ordered[1:], strict=False))
        if step > 1 and progression and ordered[-1] + step > high:
            return f"{ordered[0]}/{step}"
    parts = []
    for first, last in _runs(ordered):
        if last - first >= 2:
            parts.append(f"{name(first)}-{name(last)}")
        else:
            parts += [name(v) for v in range(first, last + 1)]
    return ",".join(parts)


def aws_expression(cron: str) -> str:
    """The ``cron(...)`` expression EventBridge Scheduler takes for the 5-field ``cron``."""
    normal = check_cron(cron)
    values = _values(normal)
    rendered = ["*" if v is None else _render(v, i) for i, v in enumerate(values)]
    minute, hour, day, month, weekday = rendered
    if values[4] is None:
        weekday = "?"
    else:
        day = "?"
    return f"cron({minute} {hour} {day} {month} {weekday} *)"


def _exists(naive: datetime, zone: ZoneInfo) -> datetime | None:
    """``naive`` as an instant in ``zone``: its first occurrence, or None if it is skipped."""
    local = naive.replace(tzinfo=zone)  # fold=0: the first of two occurrences
    back = local.astimezone(UTC).astimezone(zone).replace(tzinfo=None)
    return local if back == naive else None


def iter_fire_times(
    cron: str, timezone: str, after: datetime, years: frozenset[int] | None = None
) -> Iterator[datetime]:
    """When ``cron`` (croniter's five fields) fires after ``after``, in ``timezone``,
    the way EventBridge Scheduler does: local times a daylight saving change skips never
    fire, repeated ones fire once (the first). ``years`` keeps only those years (AWS's
    sixth field). Each time is aware, in ``timezone``."""
    from croniter import CroniterBadDateError, croniter

    zone = ZoneInfo(timezone)
    start = after.astimezone(zone).replace(tzinfo=None)
    candidates = croniter(_explicit(cron), start)
    limit = start.year + _SEARCH_YEARS
    while True:
        try:
            naive: datetime = candidates.get_next(datetime)
        except CroniterBadDateError:  # a date that never comes (stored before it was refused)
            return
        if naive.year > limit or (years is not None and naive.year > max(years)):
            return
        if years is not None and naive.year not in years:
            continue
        local = _exists(naive, zone)
        if local is not None and local > after:
            yield local


def fire_times(cron: str, timezone: str, after: datetime, count: int = 1) -> list[datetime]:
    """The next ``count`` times a 5-field ``cron`` fires after ``after`` in ``timezone``."""
    found: list[datetime] = []
    for moment in iter_fire_times(cron, timezone, after):
        found.append(moment)
        if len(found) == count:
            break
    return found


def next_fire(cron: str, timezone: str, after: datetime) -> datetime | None:
    """The first time ``cron`` fires after ``after`` (None: never again)."""
    return next(iter_fire_times(cron, timezone, after), None)
