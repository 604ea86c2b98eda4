"""The schedule store: the protocol, and its in-memory implementation.

Schedule items live beside the journal (``store_for(journal)``): in its DynamoDB table
(``sdk.schedules.dynamodb_store``) or, for an in-memory journal, in memory. Both behave
the same: every change is conditional on the version read, and ``start_tick`` writes the
tick's execution and the schedule's new state all or nothing, so a tick that dies half
way leaves either both or neither.
"""

from __future__ import annotations

import enum
import threading
import weakref
from typing import TYPE_CHECKING, Protocol

from sdk.errors import ExecutionNotFoundError
from sdk.journal.fit import execution_items
from sdk.journal.records import ExecutionRecord
from sdk.schedules.records import ScheduleRecord

if TYPE_CHECKING:
    from sdk.journal.base import Journal
    from sdk.journal.memory import MemoryJournal


class TickWrite(enum.Enum):
    STARTED = "started"  # the execution is created and the schedule moved on
    EXISTS = "exists"  # the tick's execution was already there: a duplicate tick
    STALE = "stale"  # the schedule changed (or went) since it was read: read it again


class ScheduleStore(Protocol):
    def get(self, schedule_id: str) -> ScheduleRecord | None:
        """The schedule, read strongly consistent; None if there is none."""
        ...

    def list(self) -> list[ScheduleRecord]:
        """Every schedule, by id."""
        ...

    def add(self, record: ScheduleRecord) -> ScheduleRecord:
        """Store ``record`` unless its id is taken; returns what is stored either way."""
        ...

    def replace(self, record: ScheduleRecord, *, expected_version: int) -> bool:
        """Store ``record`` if the stored one still has ``expected_version``; False if not
        (changed, or gone)."""
        ...

    def delete(self, schedule_id: str, generation: str | None = None) -> bool:
        """Remove the schedule (only if it is of ``generation``, when given); False if
        there was none (of that generation)."""
        ...

    def start_tick(
        self, record: ScheduleRecord, *, expected_version: int, execution: ExecutionRecord
    ) -> TickWrite:
        """Create ``execution`` and store ``record``, all or nothing, if the execution does
        not exist yet and the stored schedule still has ``expected_version``."""
        ...


class MemoryScheduleStore:
    """A ``ScheduleStore`` in a dictionary, thread-safe; tick executions go to ``journal``."""

    def __init__(self, journal: MemoryJournal) -> None:
        self._journal = journal
        self._lock = threading.Lock()
        self._items: dict[str, ScheduleRecord] = {}

    def get(self, schedule_id: str) -> ScheduleRecord | None:
        with self._lock:
            return self._items.get(schedule_id)

    def list(self) -> list[ScheduleRecord]:
        with self._lock:
            return [self._items[k] for k in sorted(self._items)]

    def add(self, record: ScheduleRecord) -> ScheduleRecord:
        with self._lock:
            return self._items.setdefault(record.schedule_id, record)

    def replace(self, record: ScheduleRecord, *, expected_version: int) -> bool:
        with self._lock:
            return self._replace(record, expected_version)

    def _replace(self, record: ScheduleRecord, expected_version: int) -> bool:
        current = self._items.get(record.schedule_id)
        if current is None or current.version != expected_version:
            return False
        self._items[record.schedule_id] = record
        return True

    def delete(self, schedule_id: str, generation: str | None = None) -> bool:
        with self._lock:
            current = self._items.get(schedule_id)
            if current is None or generation not in (None, current.generation):
                return False
            del self._items[schedule_id]
            return True

    def start_tick(
        self, record: ScheduleRecord, *, expected_version: int, execution: ExecutionRecord
    ) -> TickWrite:
        with self._lock:  # every tick execution is created under this lock
            try:
                self._journal.get_execution(execution.execution_id)
                return TickWrite.EXISTS
            except ExecutionNotFoundError:
                pass
            current = self._items.get(record.schedule_id)
            if current is None or current.version != expected_version:
                return TickWrite.STALE
            execution_items(execution, self._journal.values)  # refuses what DynamoDB would
            self._journal.create_execution(execution)
            self._items[record.schedule_id] = record
            return TickWrite.STARTED


_MEMORY_STORES: weakref.WeakKeyDictionary[MemoryJournal, ScheduleStore] = (
    weakref.WeakKeyDictionary()
)


def store_for(journal: Journal) -> ScheduleStore | None:
    """The schedule store kept beside ``journal``: in its DynamoDB table, or for an
    in-memory journal the one in-memory store every caller shares."""
    from sdk.journal.dynamodb import DynamoJournal
    from sdk.journal.memory import MemoryJournal

    if isinstance(journal, DynamoJournal):
        from sdk.schedules.dynamodb_store import DynamoScheduleStore

        return DynamoScheduleStore(journal)
    if isinstance(journal, MemoryJournal):
        return _MEMORY_STORES.setdefault(journal, MemoryScheduleStore(journal))
    return None  # a journal of another kind keeps no schedules
