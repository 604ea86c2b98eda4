"""The topic log: the protocol, and its in-memory implementation.

Publishing assigns each event the next ``sequence_id`` of its topic. Sequence ids have
no gaps, and a reader that has seen ``n`` will never later find a smaller one it did
not see: an event takes ``n`` only once ``n - 1`` is in the log. Publishing an id the
topic already holds writes nothing and returns the original sequence id, marked as a
duplicate, so a retried publish (a replayed step, a redelivered event) is harmless.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Protocol

from sdk.clock import Clock, SystemClock
from sdk.events.topics import INLINE_DATA_MAX_BYTES, NewEvent, Published, TopicEvent, check_topic


class TopicLog(Protocol):
    @property
    def max_data_bytes(self) -> int:
        """The largest event data (JSON bytes) the log takes."""
        ...

    def publish(self, topic: str, events: Sequence[NewEvent]) -> list[Published]:
        """Append ``events`` to ``topic`` in order; one ``Published`` each."""
        ...

    def read(self, topic: str, *, after: int = 0, limit: int = 100) -> list[TopicEvent]:
        """Up to ``limit`` events of ``topic`` with ``sequence_id > after``, in order."""
        ...

    def last_sequence(self, topic: str) -> int:
        """The sequence id of the topic's newest event; 0 for an empty topic."""
        ...


class MemoryTopicLog:
    """A ``TopicLog`` in dictionaries, thread-safe, with DynamoDB's semantics."""

    def __init__(self, clock: Clock | None = None) -> None:
        self._clock = clock or SystemClock()
        self._lock = threading.Lock()
        self._events: dict[str, list[TopicEvent]] = {}
        self._ids: dict[tuple[str, str], int] = {}

    @property
    def max_data_bytes(self) -> int:
        return INLINE_DATA_MAX_BYTES

    def publish(self, topic: str, events: Sequence[NewEvent]) -> list[Published]:
        check_topic(topic)
        return [self._publish_one(topic, event) for event in events]

    def _publish_one(self, topic: str, event: NewEvent) -> Published:
        with self._lock:
            known = self._ids.get((topic, event.id))
            if known is not None:
                return Published(event.id, known, topic, duplicate=True)
            log = self._events.setdefault(topic, [])
            stored = TopicEvent(
                id=event.id,
                sequence_id=len(log) + 1,
                topic=topic,
                data=event.data,
                created_at=self._clock.now(),
                event_type=event.event_type,
            )
            log.append(stored)
            self._ids[(topic, event.id)] = stored.sequence_id
            return Published(event.id, stored.sequence_id, topic)

    def read(self, topic: str, *, after: int = 0, limit: int = 100) -> list[TopicEvent]:
        with self._lock:
            return list(self._events.get(topic, [])[max(after, 0) : max(after, 0) + limit])

    def last_sequence(self, topic: str) -> int:
        with self._lock:
            return len(self._events.get(topic, []))
