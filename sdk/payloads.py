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
    """One tick of a cron schedule."""

    timestamp: datetime
    last_timestamp: datetime | None = None
    timezone: str = "UTC"
    schedule_id: str | None = None
