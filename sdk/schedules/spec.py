"""What a schedule is: a cron, its time zone, its key and its overlap rule.

A workflow declares one with ``@workflow(schedule="0 9 * * *")`` or
``schedule={"cron": ..., "timezone": ..., "key": ..., "overlap": ...}``; more are created
at run time with ``client.schedules.create``. A schedule is named by its workflow and its
key (``schedule_id``: ``"<workflow>:<key>"``), unique per app.

``overlap``: ``"skip"`` (the default) skips a tick while the schedule's previous execution is
still pending, running or suspended, and records the skip; ``"allow"`` starts every tick.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sdk.errors import InvalidScheduleError, WorkflowDefinitionError
from sdk.schedules.cron import check_cron, check_timezone

DEFAULT_KEY = "default"
OVERLAP_SKIP = "skip"
OVERLAP_ALLOW = "allow"
OVERLAPS = (OVERLAP_SKIP, OVERLAP_ALLOW)
KEY_RULE = "1-64 letters, digits, '-', '_' or '.', starting with a letter or digit"
_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_FIELDS = frozenset({"cron", "timezone", "key", "overlap"})


@dataclass(frozen=True)
class Schedule:
    """A cron schedule (5 fields) evaluated in ``timezone``.

    Attributes:
        cron: The classic five fields; ``sdk.schedules.cron`` says what is accepted.
        timezone: An IANA zone; ticks follow its daylight saving changes as AWS does.
        key: Names the schedule among its workflow's schedules.
        overlap: ``"skip"`` or ``"allow"`` (see the module's docstring).
    """

    cron: str
    timezone: str = "UTC"
    key: str = DEFAULT_KEY
    overlap: str = OVERLAP_SKIP

    @classmethod
    def checked(
        cls, cron: Any, timezone: Any = "UTC", key: Any = DEFAULT_KEY, overlap: Any = OVERLAP_SKIP
    ) -> Schedule:
        """A schedule whose every field is valid; ``InvalidScheduleError`` naming the first
        that is not."""
        return cls(
            check_cron(cron), check_timezone(timezone), check_key(key), check_overlap(overlap)
        )


def check_key(key: Any) -> str:
    if not isinstance(key, str) or not _KEY.match(key):
        raise InvalidScheduleError(f"schedule key {key!r} is invalid: use {KEY_RULE}")
    return key


def check_overlap(overlap: Any) -> str:
    if overlap not in OVERLAPS:
        raise InvalidScheduleError(
            f"overlap must be {' or '.join(repr(o) for o in OVERLAPS)}, got {overlap!r}"
        )
    return str(overlap)


def schedule_id(workflow_id: str, key: str) -> str:
    """``"<workflow>:<key>"``: a workflow id has no ``:``, so it splits back unambiguously."""
    return f"{workflow_id}:{key}"


def parse_schedule(workflow_id: str, schedule: str | Mapping[str, Any] | None) -> Schedule | None:
    """Validate a ``schedule=`` argument: a cron string or a dict of ``cron`` and optionally
    ``timezone``, ``key`` and ``overlap``.

    Raises:
        WorkflowDefinitionError: naming the workflow and what is wrong.
    """
    if schedule is None:
        return None
    if isinstance(schedule, str):
        fields: Mapping[str, Any] = {"cron": schedule}
    elif isinstance(schedule, Mapping) and set(schedule) <= _FIELDS and "cron" in schedule:
        fields = schedule
    else:
        raise WorkflowDefinitionError(
            f"workflow {workflow_id!r}: schedule must be a cron string or "
            f"{{'cron': ..., 'timezone': ..., 'key': ..., 'overlap': ...}}, got {schedule!r}"
        )
    try:
        return Schedule.checked(**fields)
    except InvalidScheduleError as exc:
        raise WorkflowDefinitionError(f"workflow {workflow_id!r}: schedule: {exc}") from None
