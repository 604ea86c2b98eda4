"""The topic log: the protocol, and its in-memory implementation.

Appending gives an event the next ``sequence_id`` of its topic. Sequence ids have no
gaps, and a reader that has seen ``n`` never later finds a smaller one it did not see:
an event takes ``n`` only once ``n - 1`` is in the log. Appending an id the topic
already holds writes nothing and returns the original sequence id, marked as a
duplicate, so a retried publish (a replayed step, a redelivered event) is harmless.

An append also creates, in the same atomic write, the executions the event starts
(``starts``): an event is in the log exactly when its triggered executions exist. It
leaves the event *pending* until the publisher has woken the topic's waiters and
cleared it; the sweeper finishes the job of a publisher that died in between.

Waiters (``wait_for_event``) register on a topic before they look in its log, and a
publisher looks for waiters after it appended: one of the two always sees the other.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from sdk.clock import Clock, SystemClock
from sdk.errors import ExecutionNotFoundError
from sdk.events.topics import (
    INLINE_DATA_MAX_BYTES,
    MAX_BATCH_EVENTS,
    InvalidEventError,
    NewEvent,
    Published,
    TopicEvent,
    check_topic,
)
from sdk.journal.fit import execution_items
from sdk.journal.records import ExecutionRecord

if TYPE_CHECKING:
    from sdk.journal.base import Journal
    from sdk.journal.memory import MemoryJournal

# The executions an event starts, built once its sequence id is known.
Starts = Callable[[TopicEvent], Sequence[ExecutionRecord]]
# How long a publisher has to wake the waiters before the sweeper does it.
PENDING_GRACE = timedelta(seconds=30)


@dataclass(frozen=True, order=True)
class Waiter:
    """A ``wait_for_event`` step waiting on a topic."""

    execution_id: str
    key: str


@dataclass(frozen=True)
class PendingEvent:
    """An event whose publisher may not have finished: waiters to wake, batch queues
    (``feeds``: the batched workflows) to send it to."""

    topic: str
    event_id: str
    due_at: datetime
    sequence_id: int = 0
    feeds: tuple[str, ...] = ()


class TopicLog(Protocol):
    @property
    def max_data_bytes(self) -> int:
        """The largest event data (JSON bytes) the log takes."""
        ...

    def append(
        self,
        topic: str,
        event: NewEvent,
        starts: Starts | None = None,
        feeds: Sequence[str] = (),
    ) -> Published:
        """Add ``event`` to ``topic`` with the executions it starts, all or nothing;
        ``feeds`` (the batched workflows it is queued for) stay with it while pending."""
        ...

    def claim_batch(
        self, workflow_id: str, events: Sequence[TopicEvent], execution: ExecutionRecord
    ) -> frozenset[tuple[str, int]]:
        """Create ``execution`` (a batch of ``workflow_id``) with a claim on each of
        ``events``, all or nothing.

        Returns the ``(topic, sequence_id)`` of the events a batch claimed already, and
        then writes nothing: another batch, or this one if its execution has expired
        since (time to live deletes a finished execution long before its claims). Empty
        once this batch is claimed, now or by an earlier delivery (``execution`` exists).
        """
        ...

    def read(self, topic: str, *, after: int = 0, limit: int = 100) -> list[TopicEvent]:
        """Up to ``limit`` events of ``topic`` with ``sequence_id > after``, oldest first."""
        ...

    def read_back(self, topic: str, *, upto: int, limit: int = 100) -> list[TopicEvent]:
        """Up to ``limit`` events of ``topic`` with ``sequence_id <= upto``, newest first."""
        ...

    def last_sequence(self, topic: str) -> int:
        """The sequence id of the topic's newest event; 0 for an empty topic."""
        ...

    def add_waiter(self, topic: str, waiter: Waiter) -> None: ...

    def remove_waiter(self, topic: str, waiter: Waiter) -> None: ...

    def waiters(self, topic: str) -> list[Waiter]: ...

    def clear_pending(self, topic: str, event_id: str) -> None:
        """The publisher woke the waiters of this event: off the sweeper's list."""
        ...

    def list_pending(self, now: datetime, *, limit: int = 100) -> list[PendingEvent]:
        """Events whose publisher may have died before waking the waiters."""
        ...

    def topics(self) -> dict[str, int]:
        """Every topic with its last sequence id (reads the whole log: for tools, not
        for a workflow's path)."""
        ...


class MemoryTopicLog:
    """A ``TopicLog`` in dictionaries, thread-safe, with DynamoDB's semantics; the
    executions events start go to ``journal``."""

    def __init__(self, journal: MemoryJournal | None = None, clock: Clock | None = None) -> None:
        self._journal = journal
        self._clock = clock or SystemClock()
        self._lock = threading.Lock()
        self._events: dict[str, list[TopicEvent]] = {}
        self._ids: dict[tuple[str, str], int] = {}
        self._waiters: dict[str, set[Waiter]] = {}
        self._pending: dict[tuple[str, str], PendingEvent] = {}
        self._claims: dict[tuple[str, str, int], str] = {}  # (workflow, topic, seq) -> batch

    @property
    def max_data_bytes(self) -> int:
        return INLINE_DATA_MAX_BYTES

    def append(
        self,
        topic: str,
        event: NewEvent,
        starts: Starts | None = None,
        feeds: Sequence[str] = (),
    ) -> Published:
        check_topic(topic)
        with self._lock:
            known = self._ids.get((topic, event.id))
            if known is not None:
                return Published(event.id, known, topic, duplicate=True)
            log = self._events.setdefault(topic, [])
            now = self._clock.now()
            stored = TopicEvent(event.id, len(log) + 1, topic, event.data, now, event.event_type)
            self._start(starts(stored) if starts is not None else ())
            log.append(stored)
            self._ids[(topic, event.id)] = stored.sequence_id
            self._pending[(topic, event.id)] = PendingEvent(
                topic, event.id, now + PENDING_GRACE, stored.sequence_id, tuple(feeds)
            )
            return Published(event.id, stored.sequence_id, topic)

    def claim_batch(
        self, workflow_id: str, events: Sequence[TopicEvent], execution: ExecutionRecord
    ) -> frozenset[tuple[str, int]]:
        if len(events) > MAX_BATCH_EVENTS:
            raise InvalidEventError(
                f"a batch holds at most {MAX_BATCH_EVENTS} events, got {len(events)}"
            )
        if self._journal is None:
            raise RuntimeError("this topic log has no journal to start executions in")
        eid = execution.execution_id
        execution_items(execution, self._journal.values)  # refuse what DynamoDB would, first
        with self._lock:
            try:
                self._journal.get_execution(eid)
                return frozenset()  # claimed by an earlier delivery of this very batch
            except ExecutionNotFoundError:
                pass
            keys = [(workflow_id, e.topic, e.sequence_id) for e in events]
            taken = frozenset(k[1:] for k in keys if k in self._claims)
            if taken:
                return taken
            self._journal.create_execution(execution)
            self._claims.update((k, eid) for k in keys)
            return frozenset()

    def _start(self, records: Sequence[ExecutionRecord]) -> None:
        if not records:
            return
        if self._journal is None:
            raise RuntimeError("this topic log has no journal to start executions in")
        for record in records:  # all or nothing: refuse what DynamoDB would, first
            execution_items(record, self._journal.values)
        for record in records:
            self._journal.create_execution(record)

    def read(self, topic: str, *, after: int = 0, limit: int = 100) -> list[TopicEvent]:
        start = max(after, 0)
        with self._lock:
            return list(self._events.get(topic, [])[start : start + limit])

    def read_back(self, topic: str, *, upto: int, limit: int = 100) -> list[TopicEvent]:
        with self._lock:
            log = self._events.get(topic, [])[: max(upto, 0)]
            return list(reversed(log[-limit:]))

    def last_sequence(self, topic: str) -> int:
        with self._lock:
            return len(self._events.get(topic, []))

    def add_waiter(self, topic: str, waiter: Waiter) -> None:
        with self._lock:
            self._waiters.setdefault(topic, set()).add(waiter)

    def remove_waiter(self, topic: str, waiter: Waiter) -> None:
        with self._lock:
            self._waiters.get(topic, set()).discard(waiter)

    def waiters(self, topic: str) -> list[Waiter]:
        with self._lock:
            return sorted(self._waiters.get(topic, set()))

    def clear_pending(self, topic: str, event_id: str) -> None:
        with self._lock:
            self._pending.pop((topic, event_id), None)

    def topics(self) -> dict[str, int]:
        with self._lock:
            return {topic: len(log) for topic, log in sorted(self._events.items()) if log}

    def list_pending(self, now: datetime, *, limit: int = 100) -> list[PendingEvent]:
        with self._lock:
            due = [pending for pending in self._pending.values() if pending.due_at <= now]
        return sorted(due, key=lambda p: p.due_at)[:limit]


_MEMORY_LOGS: weakref.WeakKeyDictionary[MemoryJournal, TopicLog] = weakref.WeakKeyDictionary()


def log_for(journal: Journal, clock: Clock | None = None) -> TopicLog | None:
    """The topic log kept beside ``journal``: in its DynamoDB table, or for an in-memory
    journal the one in-memory log every caller shares."""
    from sdk.journal.dynamodb import DynamoJournal
    from sdk.journal.memory import MemoryJournal

    if isinstance(journal, DynamoJournal):
        from sdk.events.dynamodb_log import DynamoTopicLog

        return DynamoTopicLog(
            journal.client,
            journal.table,
            values=journal.values,
            clock=clock,
            retention=journal.retention,
        )
    if isinstance(journal, MemoryJournal):
        return _MEMORY_LOGS.setdefault(journal, MemoryTopicLog(journal, clock))
    return None  # a journal of another kind keeps no topic log
