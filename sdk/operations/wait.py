"""``ctx.step.wait_for`` and ``ctx.step.wait_until``: durable waits.

The first call records the wake-up time (one write); the branch then parks, and the
invocation suspends once every branch is finished or waiting, holding no compute.
A timer resumes the execution; on replay a wait whose time has come returns at once.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta

from sdk.execution import ExecutionState
from sdk.journal.records import StepRecord, StepStatus, iso, parse_iso
from sdk.replay import StepCall, check_key


def duration(seconds: float, minutes: float, hours: float, days: float) -> timedelta:
    """The length of a ``wait_for``; at least one part, none negative."""
    parts = {"seconds": seconds, "minutes": minutes, "hours": hours, "days": days}
    for name, value in parts.items():
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise ValueError(f"wait_for {name} must be a non-negative number, got {value!r}")
    return timedelta(**parts)


async def wait(
    state: ExecutionState, key: str, wake_at_from: Callable[[datetime], datetime]
) -> None:
    """Wait until the time ``wake_at_from(now)`` gives on the first call."""
    call = StepCall(check_key(key), "wait")
    record = state.begin(call)
    if record is None:
        state.before_new_step()
        now = state.now()
        wake_at = wake_at_from(now)
        state.started()
        try:
            record = state.record(
                StepRecord(
                    key,
                    "wait",
                    "",
                    StepStatus.WAITING,
                    output=json.dumps(iso(wake_at)),
                    started_at=now,
                    position=state.position(key),
                )  # fmt: skip
            )
        finally:
            state.stopped()
        state.after_new_step()
    wake_at = parse_iso(json.loads(record.output or "null"))
    if state.now() >= wake_at:
        return
    await state.block(key, wake_at)


def until(when: datetime) -> Callable[[datetime], datetime]:
    if not isinstance(when, datetime) or when.tzinfo is None:
        raise ValueError(f"wait_until needs a timezone-aware datetime, got {when!r}")
    return lambda now: when
