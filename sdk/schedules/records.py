"""The schedule item: a schedule's definition and what its ticks did, in the journal table.

Every schedule of the app, declared or created at run time, has one item in one partition
(``pk = "#schedules"``, ``sk = <schedule id>``), so listing them is one ``Query``. Its
attribute names are none of those the journal's indexes key on (``workflow_id``,
``status``, ``created_at``...), so schedule items never show up among executions. Every
change replaces the whole item on the condition that its ``version`` is the one read
(an item is a few hundred bytes: one write unit either way).

It never expires: it lives as long as its schedule.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sdk.journal.records import Item, iso, parse_iso
from sdk.schedules.spec import Schedule, schedule_id

SCHEDULES_PK = "#schedules"


class Origin(enum.StrEnum):
    DECLARED = "declared"  # ``@workflow(schedule=...)``: deployed with the stack
    RUNTIME = "runtime"  # ``client.schedules.create``


class State(enum.StrEnum):
    ENABLED = "enabled"
    PAUSED = "paused"


def _s(value: str | None) -> dict[str, str] | None:
    return None if value is None else {"S": value}


def _t(value: datetime | None) -> dict[str, str] | None:
    return None if value is None else {"S": iso(value)}


def _get_t(item: Item, name: str) -> datetime | None:
    attr = item.get(name)
    return None if attr is None else parse_iso(attr["S"])


@dataclass(frozen=True, slots=True)
class ScheduleRecord:
    """One schedule and its tick history.

    Attributes:
        generation: A token made when the schedule was created; a runtime schedule's ticks
            carry it, so a tick of a deleted schedule never starts an execution of a new
            one created later with the same key.
        last_timestamp: The nominal time of the newest tick that started an execution.
        last_execution_id: The execution a tick started most recently: that one, or a late
            tick's (the one an ``overlap="skip"`` tick looks at).
        skipped: How many ticks were skipped because that execution was still running.
        last_skipped: The nominal time of the newest skipped tick (a late skipped tick
            does not move it back).
    """

    workflow_id: str
    key: str
    cron: str
    timezone: str
    overlap: str
    origin: Origin
    state: State
    created_at: datetime
    generation: str
    version: int = 0
    last_timestamp: datetime | None = None
    last_execution_id: str | None = None
    skipped: int = 0
    last_skipped: datetime | None = None

    @property
    def schedule_id(self) -> str:
        return schedule_id(self.workflow_id, self.key)

    @property
    def spec(self) -> Schedule:
        return Schedule(self.cron, self.timezone, self.key, self.overlap)

    def evolve(self, **changes: Any) -> ScheduleRecord:
        """A copy with ``changes`` and the next version."""
        return replace(self, version=self.version + 1, **changes)

    def same_definition(self, other: ScheduleRecord) -> bool:
        return (self.workflow_id, self.spec) == (other.workflow_id, other.spec)

    def to_item(self) -> Item:
        item = {
            "pk": {"S": SCHEDULES_PK},
            "sk": {"S": self.schedule_id},
            "wf": {"S": self.workflow_id},
            "key": {"S": self.key},
            "cron": {"S": self.cron},
            "tz": {"S": self.timezone},
            "overlap": {"S": self.overlap},
            "origin": {"S": self.origin.value},
            "state": {"S": self.state.value},
            "since": {"S": iso(self.created_at)},
            "gen": {"S": self.generation},
            "version": {"N": str(self.version)},
            "last_ts": _t(self.last_timestamp),
            "last_exec": _s(self.last_execution_id),
            "skipped": {"N": str(self.skipped)},
            "last_skip": _t(self.last_skipped),
        }
        return {name: attr for name, attr in item.items() if attr is not None}

    @classmethod
    def from_item(cls, item: Item) -> ScheduleRecord:
        return cls(
            workflow_id=item["wf"]["S"],
            key=item["key"]["S"],
            cron=item["cron"]["S"],
            timezone=item["tz"]["S"],
            overlap=item["overlap"]["S"],
            origin=Origin(item["origin"]["S"]),
            state=State(item["state"]["S"]),
            created_at=parse_iso(item["since"]["S"]),
            generation=item["gen"]["S"],
            version=int(item["version"]["N"]),
            last_timestamp=_get_t(item, "last_ts"),
            last_execution_id=item.get("last_exec", {}).get("S"),
            skipped=int(item.get("skipped", {"N": "0"})["N"]),
            last_skipped=_get_t(item, "last_skip"),
        )
