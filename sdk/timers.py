"""Wake-ups for suspended executions.

When an invocation suspends on a wait, the engine hands each pending wake-up to a
``Timers`` service: on AWS a delayed SQS message or an EventBridge Scheduler one-time
schedule (``sdk.aws_timers``); in tests and the in-process fixture ``ManualTimers``,
fired by moving a virtual clock. Scheduling the same (execution, key) twice is harmless:
at worst the execution is woken twice, and a wake-up finds nothing to do.
"""

from __future__ import annotations

import heapq
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from sdk.clock import VirtualClock


class VirtualDue(Protocol):
    """Something a virtual clock must stop for: a schedule's next tick, a batch window."""

    def next_due(self) -> datetime | None:
        """When it next comes due (``None``: nothing pending)."""
        ...

    def fire(self, now: datetime) -> object:
        """Fire what is due at ``now`` (nothing if nothing is)."""
        ...


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

    def advance(
        self,
        clock: VirtualClock,
        length: timedelta,
        invoke: Callable[[str], None],
        sweep: Callable[[], object] | None = None,
        also: Sequence[VirtualDue] = (),
    ) -> int:
        """Move ``clock`` forward by ``length``, firing timers in order as it passes them.

        The clock stops at each timer's time and invokes its execution, so timers that
        resumed executions schedule on the way fire too if they fall inside ``length``;
        it stops as well where one of ``also`` (schedule ticks, batch windows) comes due
        and fires it. ``sweep`` (the sweeper) runs at every stop and at the end. Returns
        how many timers fired.
        """
        target = clock.now() + length
        fired = 0
        while True:
            with self._lock:
                upcoming = self._heap[0].wake_at if self._heap else None
            dues = [d for d in (source.next_due() for source in also) if d is not None]
            stop = min([upcoming, *dues] if upcoming is not None else dues, default=None)
            if stop is None or stop > target:
                break
            if stop > clock.now():
                clock.advance(seconds=(stop - clock.now()).total_seconds())
            now = clock.now()
            for timer in self.due(now):
                invoke(timer.execution_id)
                fired += 1
            for source in also:
                source.fire(now)
            if sweep is not None:
                sweep()
        if target > clock.now():
            clock.advance(seconds=(target - clock.now()).total_seconds())
        for source in also:
            source.fire(clock.now())
        if sweep is not None:
            sweep()
        return fired

    def pending(self) -> list[Timer]:
        with self._lock:
            return sorted(self._heap)
