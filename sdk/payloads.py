"""The inputs Stepline hands to triggered workflows: events, batches and schedule ticks.

Plain frozen dataclasses: pydantic validates and rebuilds them like any other
input type, and importing them costs nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class EventPayload:
    """One topic event, as seen by an event-triggered workflow."""

    id: str
    sequence_id: int
    topic: str
    data: Any = None
    event_type: str | None = None
    created_at: datetime | None = None


@dataclass(frozen=True)
class BatchEventPayload:
    """The events of one batch window, in arrival order."""

    events: list[EventPayload] = field(default_factory=list)


@dataclass(frozen=True)
class SchedulePayload:
    """One tick of a cron schedule.

    Attributes:
        timestamp: The tick's nominal time (when the schedule was due, not when the tick
            was processed), aware, at the schedule's UTC offset that day.
        last_timestamp: The nominal time of the schedule's previous tick that started an
            execution; None for its first (or for a tick delivered after a later one).
        timezone: The schedule's IANA timezone.
        schedule_id: ``"<workflow>:<key>"``.
        key: The schedule's key among its workflow's schedules.
        upcoming: The schedule's next nominal time after this tick (None: never again).
    """

    timestamp: datetime
    last_timestamp: datetime | None = None
    timezone: str = "UTC"
    schedule_id: str | None = None
    key: str | None = None
    upcoming: datetime | None = None
