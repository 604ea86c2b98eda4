"""Wake-ups for suspended executions.

When an invocation suspends on a wait, the engine hands each pending wake-up to a
``Timers`` service: on AWS an EventBridge Scheduler one-time schedule
(``sdk.scheduler_timers``); in tests and the in-process fixture ``ManualTimers``,
fired by moving a virtual clock. Scheduling the same (execution, key) twice is harmless.
"""

from __future__ import annotations

import heapq
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol


class Timers(Protocol):
    def schedule(self, execution_id: str, key: str, wake_at: datetime) -> None:
        """Resume ``execution_id`` at ``wake_at`` (for its wait ``key``)."""
        ...


@dataclass(order=True, frozen=True)
class Timer:
    wake_at: datetime
    execution_id: str = field(compare=False)
    key: str = field(compare=False)


class ManualTimers:
    """Timers kept in memory; ``due(now)`` hands out those whose time has come."""

    def __init__(self) -> None:
        self._heap: list[Timer] = []
        self._scheduled: set[tuple[str, str]] = set()
        self._lock = threading.Lock()

    def schedule(self, execution_id: str, key: str, wake_at: datetime) -> None:
        with self._lock:
            if (execution_id, key) in self._scheduled:
                return
            self._scheduled.add((execution_id, key))
            heapq.heappush(self._heap, Timer(wake_at, execution_id, key))

    def due(self, now: datetime) -> list[Timer]:
        """Remove and return the timers due at ``now``, earliest first."""
        fired = []
        with self._lock:
            while self._heap and self._heap[0].wake_at <= now:
                timer = heapq.heappop(self._heap)
                self._scheduled.discard((timer.execution_id, timer.key))
                fired.append(timer)
        return fired

    def fire_due(self, now: Callable[[], datetime], invoke: Callable[[str], None]) -> int:
        """Invoke each due timer's execution, until none is due; returns how many fired.

        ``now`` is read again after each round: a resumed execution may schedule more.
        """
        fired = 0
        while timers := self.due(now()):
            for timer in timers:
                invoke(timer.execution_id)
                fired += 1
        return fired

    def pending(self) -> list[Timer]:
        with self._lock:
            return sorted(self._heap)
