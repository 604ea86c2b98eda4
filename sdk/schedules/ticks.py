"""A schedule's tick: one nominal time -> at most one execution.

EventBridge Scheduler (or the emulator, or the fixture's virtual clock) delivers a tick
with its nominal time, at least once and possibly late. ``Ticker.tick``:

1. reads the schedule (a declared one's item is made on its first tick); a schedule that
   is gone, or that is a new one under the same key (its ``generation`` differs), starts
   nothing; a paused one starts nothing;
2. derives the execution id from the schedule and the nominal time (``tick_execution_id``):
   a tick delivered again finds its execution and starts nothing new (it invokes it again
   if it is still pending, which is harmless: the lease admits one invocation);
3. with ``overlap="skip"``, if the schedule's previous execution is still pending, running or
   suspended, records the skip on the schedule (count and nominal time) and stops;
4. writes the execution and the schedule's new ``last_timestamp`` in one conditional write
   (``ScheduleStore.start_tick``), then invokes the runner. The execution is due for the
   sweeper two minutes on, so a lost invocation delays it, never loses it.

A write that finds the schedule changed since it was read (another tick, a pause, a
delete) reads it again and decides again.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sdk.clock import Clock, SystemClock
from sdk.errors import (
    ExecutionNotFoundError,
    InvalidPayloadError,
    InvalidScheduleError,
    SteplineError,
    TransientInfrastructureError,
)
from sdk.events.waking import invoke_quietly
from sdk.ids import derived_id
from sdk.journal.base import Journal
from sdk.journal.records import RUNNABLE, ExecutionRecord, ExecutionStatus, iso
from sdk.payloads import SchedulePayload
from sdk.schedules.cron import next_fire
from sdk.schedules.records import Origin, ScheduleRecord, State
from sdk.schedules.spec import OVERLAP_SKIP, Schedule, schedule_id
from sdk.schedules.store import ScheduleStore, TickWrite, store_for
from sdk.sweeper import new_execution

if TYPE_CHECKING:
    from sdk.app import App
    from sdk.client import Invoker
    from sdk.workflow import Workflow

logger = logging.getLogger("stepline.schedules")
DECLARED_GENERATION = "declared"
MAX_ATTEMPTS = 20  # reads and conditional writes racing other ticks or changes
# Where EventBridge Scheduler puts the tick's nominal time in the target's input.
SCHEDULED_TIME = "<aws.scheduler.scheduled-time>"


class TickOutcome(enum.StrEnum):
    STARTED = "started"
    DUPLICATE = "duplicate"  # its execution exists: a tick delivered again
    SKIPPED = "skipped"  # the previous execution is still running (overlap "skip")
    PAUSED = "paused"
    GONE = "gone"  # the schedule (or its workflow) no longer exists
    REFUSED = "refused"  # the workflow does not take a SchedulePayload


@dataclass(frozen=True)
class TickRequest:
    """What a tick carries: the schedule, and the nominal time it is due."""

    workflow_id: str
    key: str
    scheduled_time: datetime
    generation: str | None = None  # a runtime schedule's; None for a declared one

    @property
    def schedule_id(self) -> str:
        return schedule_id(self.workflow_id, self.key)

    @classmethod
    def from_event(cls, event: Any) -> TickRequest:
        """The tick in a target's input; ``InvalidScheduleError`` naming what is missing."""
        if not isinstance(event, Mapping):
            raise InvalidScheduleError(f"a tick must be a JSON object, got {event!r}")
        fields = {name: event.get(name) for name in ("workflow_id", "key", "scheduled_time")}
        missing = [name for name, value in fields.items() if not isinstance(value, str)]
        if missing:
            raise InvalidScheduleError(f"a tick needs {', '.join(missing)} (strings): {event!r}")
        generation = event.get("generation")
        try:
            when = datetime.fromisoformat(str(fields["scheduled_time"]).replace("Z", "+00:00"))
        except ValueError:
            raise InvalidScheduleError(
                f"scheduled_time {fields['scheduled_time']!r} is not an ISO 8601 time"
            ) from None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return cls(
            str(fields["workflow_id"]),
            str(fields["key"]),
            when.astimezone(UTC),
            None if generation is None else str(generation),
        )

    @staticmethod
    def target_input(workflow_id: str, key: str, generation: str | None = None) -> dict[str, str]:
        """A schedule target's input: Scheduler fills in the nominal time of each tick."""
        body = {"workflow_id": workflow_id, "key": key, "scheduled_time": SCHEDULED_TIME}
        if generation is not None:
            body["generation"] = generation
        return body


@dataclass(frozen=True)
class TickResult:
    outcome: TickOutcome
    schedule_id: str
    scheduled_time: datetime
    execution_id: str | None = None

    def to_dict(self) -> dict[str, str | None]:
        return {
            "outcome": self.outcome.value,
            "schedule_id": self.schedule_id,
            "scheduled_time": iso(self.scheduled_time),
            "execution_id": self.execution_id,
        }


def tick_execution_id(workflow_id: str, key: str, nominal: datetime) -> str:
    """The execution of one tick: the same for every delivery of that tick."""
    return f"{workflow_id}:{derived_id('schedule', schedule_id(workflow_id, key), iso(nominal))}"


def declared_record(wf: Workflow[Any], now: datetime) -> ScheduleRecord:
    """The item a declared schedule gets on its first tick (or pause)."""
    spec = wf.schedule
    assert spec is not None
    return ScheduleRecord(
        workflow_id=wf.id, key=spec.key, cron=spec.cron, timezone=spec.timezone,
        overlap=spec.overlap, origin=Origin.DECLARED, state=State.ENABLED, created_at=now,
        generation=DECLARED_GENERATION,
    )  # fmt: skip


def declared_spec(app: App, workflow_id: str, key: str) -> Schedule | None:
    """The schedule ``workflow_id`` declares under ``key``, if it does."""
    if workflow_id not in app:
        return None
    spec = app.get(workflow_id).schedule
    return spec if spec is not None and spec.key == key else None


class Ticker:
    """Turns ticks of ``app``'s schedules into executions in ``journal``."""

    def __init__(
        self,
        app: App,
        journal: Journal,
        invoker: Invoker | None,
        clock: Clock | None = None,
        store: ScheduleStore | None = None,
    ) -> None:
        self.app = app
        self.journal = journal
        self.invoker = invoker
        self.clock: Clock = clock or SystemClock()
        found = store or store_for(journal)
        if found is None:
            raise SteplineError(f"a {type(journal).__name__} keeps no schedules")
        self.store: ScheduleStore = found

    def tick(self, request: TickRequest) -> TickResult:
        """Start the execution of one tick, at most once (see the module's docstring)."""
        for _ in range(MAX_ATTEMPTS):
            outcome = self._attempt(request)
            if outcome is not None:
                if outcome.outcome is not TickOutcome.STARTED:
                    logger.info("tick %s", outcome.outcome.value, extra=outcome.to_dict())
                return outcome
        raise TransientInfrastructureError(
            f"schedule {request.schedule_id!r}: the tick at {iso(request.scheduled_time)} kept "
            f"meeting concurrent changes ({MAX_ATTEMPTS} attempts)"
        )

    def _result(
        self, request: TickRequest, outcome: TickOutcome, execution_id: str | None = None
    ) -> TickResult:
        return TickResult(outcome, request.schedule_id, request.scheduled_time, execution_id)

    def _current(self, request: TickRequest) -> ScheduleRecord | None:
        """The schedule the tick belongs to, its declared definition brought up to date."""
        record = self.store.get(request.schedule_id)
        if request.generation is not None:
            same = record is not None and record.generation == request.generation
            return record if same else None
        spec = declared_spec(self.app, request.workflow_id, request.key)
        if spec is None:
            return None
        if record is None:
            wf = self.app.get(request.workflow_id)
            return self.store.add(declared_record(wf, self.clock.now()))
        if record.origin is Origin.DECLARED and record.spec != spec:  # redeployed with changes
            changed = record.evolve(cron=spec.cron, timezone=spec.timezone, overlap=spec.overlap)
            if self.store.replace(changed, expected_version=record.version):
                return changed
            return self.store.get(request.schedule_id)  # changed meanwhile: as it is now
        return record

    def _attempt(self, request: TickRequest) -> TickResult | None:
        """One read-decide-write round; None when the schedule changed under it."""
        record = self._current(request)
        if record is None or record.workflow_id not in self.app:
            return self._result(request, TickOutcome.GONE)
        nominal = request.scheduled_time
        execution_id = tick_execution_id(record.workflow_id, record.key, nominal)
        if record.state is State.PAUSED:
            return self._result(request, TickOutcome.PAUSED)
        if record.last_skipped == nominal:  # a skipped tick delivered again
            return self._result(request, TickOutcome.SKIPPED)
        if self._exists(execution_id):
            return self._result(request, TickOutcome.DUPLICATE, execution_id)
        if record.overlap == OVERLAP_SKIP and self._running(record, execution_id):
            newest = nominal if record.last_skipped is None else max(record.last_skipped, nominal)
            skipped = record.evolve(skipped=record.skipped + 1, last_skipped=newest)
            if not self.store.replace(skipped, expected_version=record.version):
                return None
            return self._result(request, TickOutcome.SKIPPED)
        return self._start(request, record, execution_id)

    def _start(
        self, request: TickRequest, record: ScheduleRecord, execution_id: str
    ) -> TickResult | None:
        nominal = request.scheduled_time
        try:
            execution = self._execution(record, nominal, execution_id)
        except InvalidPayloadError as exc:
            logger.error("schedule %s: %s", record.schedule_id, exc)
            return self._result(request, TickOutcome.REFUSED)
        if record.last_timestamp is None or nominal > record.last_timestamp:
            moved = record.evolve(last_timestamp=nominal, last_execution_id=execution_id)
        else:  # a late tick: the newest nominal time stays; overlap now watches this one
            moved = record.evolve(last_execution_id=execution_id)
        written = self.store.start_tick(moved, expected_version=record.version, execution=execution)
        if written is TickWrite.STALE:
            return None
        invoke_quietly(self.invoker, execution_id)  # created and due: else the sweeper does
        outcome = TickOutcome.STARTED if written is TickWrite.STARTED else TickOutcome.DUPLICATE
        return self._result(request, outcome, execution_id)

    def _exists(self, execution_id: str) -> bool:
        """Is the tick's execution there? If it is still pending, invoke it again."""
        try:
            existing = self.journal.get_execution(execution_id)
        except ExecutionNotFoundError:
            return False
        if existing.status is ExecutionStatus.PENDING:
            invoke_quietly(self.invoker, execution_id)  # its first invocation may be lost
        return True

    def _running(self, record: ScheduleRecord, execution_id: str) -> bool:
        previous = record.last_execution_id
        if previous is None or previous == execution_id:
            return False
        try:
            return self.journal.get_execution(previous).status in RUNNABLE
        except ExecutionNotFoundError:
            return False

    def _execution(
        self, record: ScheduleRecord, nominal: datetime, execution_id: str
    ) -> ExecutionRecord:
        wf = self.app.get(record.workflow_id)
        payload = schedule_payload(record, nominal) if wf.takes_input else None
        return new_execution(self.journal, wf, execution_id, payload, self.clock.now())


def schedule_payload(record: ScheduleRecord, nominal: datetime) -> SchedulePayload:
    """What the workflow of one tick receives."""
    zone = ZoneInfo(record.timezone)
    last = record.last_timestamp
    upcoming = next_fire(record.cron, record.timezone, nominal)
    return SchedulePayload(
        timestamp=nominal.astimezone(zone),
        last_timestamp=None if last is None or last >= nominal else last.astimezone(zone),
        timezone=record.timezone,
        schedule_id=record.schedule_id,
        key=record.key,
        upcoming=upcoming,
    )
