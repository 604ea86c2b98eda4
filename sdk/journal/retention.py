"""How long the journal keeps an execution: DynamoDB time to live, at no extra write.

A stack keeps finished executions for a retention period R and lets an execution run
for at most a lifetime L. Every item of an execution's partition carries ``expires_at``
(``sdk.journal.schema.EXPIRES_AT``, epoch seconds), set in the write that creates it:

- a step record, a child's report, a bookkeeping record, a long input or output:
  the time it is written + L + R;
- the execution item: its creation + L + R, then the time it finishes + R, in the same
  conditional write that finishes it (completed, failed or cancelled, on every path).

The engine fails an execution resumed after its creation + L (``stepline:LifetimeExceeded``),
so nothing an execution still needs expires while it may run; a finished execution's item
goes R after it finished, and every other item at most L + R after it was written.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

DAY_SECONDS = 24 * 3600
DEFAULT_RETENTION_DAYS = 30
DEFAULT_LIFETIME_DAYS = 365


def epoch_seconds(moment: datetime) -> int:
    """``moment`` as DynamoDB's time to live reads it: whole seconds since the epoch."""
    return int(moment.timestamp())


def describe_span(seconds: int) -> str:
    """``365 days``, ``1 day``, ``90 seconds``: a span as people write it."""
    if seconds % DAY_SECONDS == 0:
        days = seconds // DAY_SECONDS
        return f"{days} day{'s' if days != 1 else ''}"
    return f"{seconds} second{'s' if seconds != 1 else ''}"


@dataclass(frozen=True, slots=True)
class Retention:
    """The stack's retention period and maximum execution lifetime, in seconds."""

    retention_seconds: int = DEFAULT_RETENTION_DAYS * DAY_SECONDS
    lifetime_seconds: int = DEFAULT_LIFETIME_DAYS * DAY_SECONDS

    def __post_init__(self) -> None:
        for name in ("retention_seconds", "lifetime_seconds"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise ValueError(f"Retention.{name} must be a positive whole number, got {value!r}")

    @classmethod
    def from_days(cls, *, retention_days: int, lifetime_days: int) -> Retention:
        return cls(retention_days * DAY_SECONDS, lifetime_days * DAY_SECONDS)

    def open_expiry(self, written: datetime) -> int:
        """``expires_at`` of an item written at ``written`` that a running execution may
        still need: every item but a finished execution's own (written + L + R)."""
        return epoch_seconds(written) + self.lifetime_seconds + self.retention_seconds

    def finished_expiry(self, finished: datetime) -> int:
        """``expires_at`` of the execution item of an execution finished at ``finished``."""
        return epoch_seconds(finished) + self.retention_seconds

    def lifetime_end(self, created: datetime) -> datetime:
        """The last moment at which an execution created at ``created`` may be resumed."""
        return created + timedelta(seconds=self.lifetime_seconds)

    def exceeded(self, created: datetime, now: datetime) -> bool:
        """Is ``now`` past the lifetime of an execution created at ``created``?"""
        return now > self.lifetime_end(created)

    @property
    def lifetime(self) -> str:
        """The lifetime as people write it (``365 days``)."""
        return describe_span(self.lifetime_seconds)


DEFAULT_RETENTION = Retention()
