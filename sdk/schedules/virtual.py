"""Schedules on a virtual clock: the fixture's stand-in for EventBridge Scheduler.

``VirtualScheduler`` is a ``VirtualDue`` (``sdk.timers``): ``advance()`` stops at each tick
of every enabled schedule, declared or created at run time, and delivers it to the
``Ticker`` with its nominal time, in order. Ticks come where AWS would fire them
(``sdk.schedules.cron``: croniter in the schedule's zone, daylight saving included). A
declared schedule ticks from when the scheduler was made, a runtime one from its creation;
a paused one does not tick (AWS does not invoke a disabled schedule), and after ``resume``
it ticks from then on. ``deliver`` hands over one tick by hand: a duplicate, a late one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sdk.clock import Clock
from sdk.schedules.cron import next_fire
from sdk.schedules.records import Origin, State
from sdk.schedules.spec import DEFAULT_KEY, schedule_id
from sdk.schedules.ticks import Ticker, TickRequest, TickResult


@dataclass(frozen=True)
class _Source:
    workflow_id: str
    key: str
    cron: str
    timezone: str
    generation: str | None
    enabled: bool
    start: datetime

    @property
    def identity(self) -> tuple[str, str, str | None]:
        return (self.workflow_id, self.key, self.generation)


class VirtualScheduler:
    """Delivers the ticks of ``ticker``'s schedules as a virtual ``clock`` passes them."""

    def __init__(self, ticker: Ticker, clock: Clock) -> None:
        self.ticker = ticker
        self.clock = clock
        self._since = clock.now()
        self._cursor: dict[tuple[str, str, str | None], datetime] = {}
        self.delivered: list[TickResult] = []

    def _sources(self) -> list[_Source]:
        stored = {r.schedule_id: r for r in self.ticker.store.list()}
        found = []
        for wf in self.ticker.app:
            if wf.schedule is None:
                continue
            spec = wf.schedule
            record = stored.get(f"{wf.id}:{spec.key}")
            enabled = record is None or record.state is State.ENABLED
            found.append(
                _Source(wf.id, spec.key, spec.cron, spec.timezone, None, enabled, self._since)
            )
        for record in stored.values():
            if record.origin is Origin.RUNTIME:
                found.append(
                    _Source(
                        record.workflow_id, record.key, record.cron, record.timezone,
                        record.generation, record.state is State.ENABLED, record.created_at,
                    )
                )  # fmt: skip
        return found

    def _next(self, source: _Source) -> datetime | None:
        cursor = self._cursor.setdefault(source.identity, source.start)
        return next_fire(source.cron, source.timezone, cursor)

    def next_due(self) -> datetime | None:
        dues = [self._next(s) for s in self._sources() if s.enabled]
        return min((d for d in dues if d is not None), default=None)

    def fire(self, now: datetime) -> list[TickResult]:
        """Deliver every tick due by ``now`` that was not delivered yet, oldest first."""
        results: list[TickResult] = []
        while True:
            pending = []
            for source in self._sources():
                if not source.enabled:
                    self._cursor[source.identity] = now  # a disabled schedule skips its ticks
                    continue
                due = self._next(source)
                if due is not None and due <= now:
                    pending.append((due, source))
            if not pending:
                return results
            due, source = min(pending, key=lambda p: p[0])
            self._cursor[source.identity] = due
            results.append(self.deliver(source.workflow_id, due, source.key, source.generation))

    def deliver(
        self,
        workflow_id: str,
        nominal: datetime,
        key: str = DEFAULT_KEY,
        generation: str | None = None,
    ) -> TickResult:
        """Hand the tick of ``nominal`` to the ticker, as Scheduler would (again, or late).

        ``generation`` defaults to the stored runtime schedule's, as its AWS schedule carries.
        """
        if generation is None:
            record = self.ticker.store.get(schedule_id(workflow_id, key))
            if record is not None and record.origin is Origin.RUNTIME:
                generation = record.generation
        request = TickRequest(workflow_id, key, nominal.astimezone(UTC), generation)
        result = self.ticker.tick(request)
        self.delivered.append(result)
        return result
