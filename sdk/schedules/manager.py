"""``client.schedules``: list, create, delete, pause and resume schedules at run time.

The schedule item (``sdk.schedules.records``) is the truth; the ``ScheduleBackend``
(EventBridge Scheduler on AWS and in the emulator, none in the fixture, whose virtual clock
fires the items itself) follows it. The order of each change makes a crash in the middle
harmless: ``create`` stores the item, then creates the AWS schedule (a retried create with
the same definition finishes the job); ``delete`` removes the AWS schedule, then the item
(a tick already in flight then finds no schedule and starts nothing); ``pause`` and
``resume`` change the item, then the AWS schedule's state (a tick of a paused schedule
starts nothing either way). Requests racing over one key cannot leave an AWS schedule
without its item: each AWS schedule is named by its item's generation; after writing one,
a request reads the item again and removes what it wrote if the item is gone (or is a new
one); ``delete`` removes the AWS schedule again once the item is gone, and deletes the item
only if it is still the generation it read.

A schedule declared in code (``@workflow(schedule=...)``) is listed, paused and resumed like
the others, but deleted only by removing it from the code and deploying: its AWS schedule
belongs to the stack, so pausing it keeps Scheduler invoking the schedules function, which
starts nothing while it is paused.
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sdk.clock import Clock, SystemClock
from sdk.errors import (
    InvalidPayloadError,
    InvalidScheduleError,
    ScheduleConflictError,
    ScheduleNotFoundError,
    SteplineError,
)
from sdk.ids import new_token
from sdk.journal.base import Journal
from sdk.journal.records import iso
from sdk.payloads import SchedulePayload
from sdk.schedules.cron import aws_expression, fire_times
from sdk.schedules.records import Origin, ScheduleRecord, State
from sdk.schedules.spec import DEFAULT_KEY, OVERLAP_SKIP, Schedule, check_key
from sdk.schedules.store import ScheduleStore, store_for
from sdk.schedules.ticks import declared_record, declared_spec

if TYPE_CHECKING:
    from sdk.app import App
    from sdk.schedules.aws import ScheduleBackend
    from sdk.workflow import Workflow

UPCOMING = 3  # fire times a listing shows
MAX_ATTEMPTS = 20


def _local(moment: datetime | None, zone: ZoneInfo) -> str | None:
    return None if moment is None else moment.astimezone(zone).isoformat()


@dataclass(frozen=True)
class ScheduleInfo:
    """A schedule as ``list`` shows it: its definition, its ticks so far, its next ones."""

    record: ScheduleRecord
    upcoming: tuple[datetime, ...]
    stored: bool = True  # False: a declared schedule that has not ticked yet

    @property
    def schedule_id(self) -> str:
        return self.record.schedule_id

    def to_dict(self) -> dict[str, Any]:
        """The JSON view of the API and the CLI; nominal times at the schedule's offset."""
        r = self.record
        zone = ZoneInfo(r.timezone)
        return {
            "schedule_id": r.schedule_id,
            "workflow_id": r.workflow_id,
            "key": r.key,
            "cron": r.cron,
            "timezone": r.timezone,
            "expression": aws_expression(r.cron),
            "overlap": r.overlap,
            "origin": r.origin.value,
            "state": r.state.value,
            "created_at": iso(r.created_at) if self.stored else None,
            "last_timestamp": _local(r.last_timestamp, zone),
            "last_execution_id": r.last_execution_id,
            "skipped": r.skipped,
            "last_skipped": _local(r.last_skipped, zone),
            "next": [_local(t, zone) for t in self.upcoming],
        }


class Schedules:
    """The schedules of ``app``, kept beside ``journal``, fired through ``backend``."""

    def __init__(
        self,
        app: App,
        journal: Journal,
        *,
        clock: Clock | None = None,
        backend: ScheduleBackend | None = None,
        store: ScheduleStore | None = None,
    ) -> None:
        self.app = app
        self.journal = journal
        self.clock: Clock = clock or SystemClock()
        self.backend = backend
        found = store or store_for(journal)
        if found is None:
            raise SteplineError(f"a {type(journal).__name__} keeps no schedules")
        self.store: ScheduleStore = found

    def _info(self, record: ScheduleRecord, stored: bool = True) -> ScheduleInfo:
        upcoming: tuple[datetime, ...] = ()
        if record.state is State.ENABLED:
            upcoming = tuple(fire_times(record.cron, record.timezone, self.clock.now(), UPCOMING))
        return ScheduleInfo(record, upcoming, stored)

    def list(self, workflow: Workflow[Any] | str | None = None) -> builtins.list[ScheduleInfo]:
        """Every schedule (of one workflow), declared and created at run time, by id."""
        wanted = None if workflow is None else self._workflow_id(workflow)
        stored = {r.schedule_id: r for r in self.store.list()}
        found = {sid: self._info(r) for sid, r in stored.items()}
        now = self.clock.now()
        for wf in self.app:
            if wf.schedule is not None:
                record = declared_record(wf, now)
                if record.schedule_id not in found:
                    found[record.schedule_id] = self._info(record, stored=False)
        return [
            info
            for sid, info in sorted(found.items())
            if wanted is None or info.record.workflow_id == wanted
        ]

    def get(self, workflow: Workflow[Any] | str, key: str = DEFAULT_KEY) -> ScheduleInfo:
        """One schedule; ``ScheduleNotFoundError`` if the workflow has none with ``key``."""
        workflow_id, key = self._workflow_id(workflow), check_key(key)
        record = self.store.get(f"{workflow_id}:{key}")
        if record is not None:
            return self._info(record)
        if declared_spec(self.app, workflow_id, key) is not None:
            return self._info(declared_record(self.app.get(workflow_id), self.clock.now()), False)
        raise ScheduleNotFoundError(f"workflow {workflow_id!r} has no schedule with key {key!r}")

    def create(
        self,
        workflow: Workflow[Any] | str,
        cron: str,
        timezone: str = "UTC",
        *,
        key: str = DEFAULT_KEY,
        overlap: str = OVERLAP_SKIP,
    ) -> ScheduleInfo:
        """Start ``workflow`` on ``cron`` (5 fields) in ``timezone``; ``key`` names it among
        the workflow's schedules. Creating the same schedule again returns it unchanged.

        Raises:
            WorkflowNotFoundError: no such workflow.
            InvalidScheduleError: a bad cron, timezone, key or overlap, or a workflow whose
                input cannot be a ``SchedulePayload``.
            ScheduleConflictError: the workflow has another schedule with that key.
        """
        wf = self.app.get(self._workflow_id(workflow))
        spec = Schedule.checked(cron, timezone, key, overlap)
        self._check_takes_ticks(wf)
        if declared_spec(self.app, wf.id, spec.key) is not None:
            raise ScheduleConflictError(
                f"workflow {wf.id!r} declares a schedule with key {spec.key!r} in its code; "
                "give this one another key"
            )
        wanted = ScheduleRecord(
            workflow_id=wf.id, key=spec.key, cron=spec.cron, timezone=spec.timezone,
            overlap=spec.overlap, origin=Origin.RUNTIME, state=State.ENABLED,
            created_at=self.clock.now(), generation=new_token(),
        )  # fmt: skip
        stored = self.store.add(wanted)
        if stored.generation != wanted.generation:
            if not stored.same_definition(wanted):
                raise ScheduleConflictError(
                    f"workflow {wf.id!r} already has a schedule with key {spec.key!r} "
                    f"({stored.cron!r} in {stored.timezone}, overlap {stored.overlap}); delete "
                    "it first or choose another key"
                )
            self._follow(stored)  # a retried create: finish what the first one began
            return self._info(stored)
        try:
            self._follow(stored)
        except BaseException:
            self.store.delete(stored.schedule_id, stored.generation)  # no item without it
            raise
        return self._info(stored)

    def delete(self, workflow: Workflow[Any] | str, key: str = DEFAULT_KEY) -> None:
        """Delete a schedule made at run time; a tick in flight then starts nothing.

        Raises:
            ScheduleNotFoundError: there is none.
            ScheduleConflictError: it is declared in the code (remove it there and deploy).
        """
        workflow_id, key = self._workflow_id(workflow), check_key(key)
        if declared_spec(self.app, workflow_id, key) is not None:
            raise ScheduleConflictError(
                f"the schedule {workflow_id}:{key} is declared in the code of workflow "
                f"{workflow_id!r}: remove it there and deploy (pause it meanwhile)"
            )
        record = self.store.get(f"{workflow_id}:{key}")
        if record is None:
            raise ScheduleNotFoundError(
                f"workflow {workflow_id!r} has no schedule with key {key!r}"
            )
        if self.backend is not None and record.origin is Origin.RUNTIME:
            self.backend.remove(record)
        self.store.delete(record.schedule_id, record.generation)
        if self.backend is not None and record.origin is Origin.RUNTIME:
            self.backend.remove(record)  # what a create or pause racing this one put back

    def pause(self, workflow: Workflow[Any] | str, key: str = DEFAULT_KEY) -> ScheduleInfo:
        """Stop a schedule's ticks from starting executions until ``resume``."""
        return self._set_state(workflow, key, State.PAUSED)

    def resume(self, workflow: Workflow[Any] | str, key: str = DEFAULT_KEY) -> ScheduleInfo:
        """Let a paused schedule start executions again, from its next tick on."""
        return self._set_state(workflow, key, State.ENABLED)

    def _set_state(self, workflow: Workflow[Any] | str, key: str, state: State) -> ScheduleInfo:
        workflow_id, key = self._workflow_id(workflow), check_key(key)
        for _ in range(MAX_ATTEMPTS):
            record = self.store.get(f"{workflow_id}:{key}")
            if record is None and declared_spec(self.app, workflow_id, key) is not None:
                declared = declared_record(self.app.get(workflow_id), self.clock.now())
                record = self.store.add(declared)
            if record is None:
                raise ScheduleNotFoundError(
                    f"workflow {workflow_id!r} has no schedule with key {key!r}"
                )
            changed = record if record.state is state else record.evolve(state=state)
            if changed is record or self.store.replace(changed, expected_version=record.version):
                self._follow(changed)
                return self._info(changed)
        raise SteplineError(f"schedule {workflow_id}:{key} kept changing; try again")

    def _follow(self, record: ScheduleRecord) -> None:
        """Make the AWS schedule of a runtime schedule what ``record`` says; take it back
        if the item went (or became another schedule) meanwhile."""
        if self.backend is not None and record.origin is Origin.RUNTIME:
            self.backend.put(record)
            now = self.store.get(record.schedule_id)
            if now is None or now.generation != record.generation:
                self.backend.remove(record)

    def _workflow_id(self, workflow: Workflow[Any] | str) -> str:
        return workflow if isinstance(workflow, str) else workflow.id

    def _check_takes_ticks(self, wf: Workflow[Any]) -> None:
        if not wf.takes_input:
            return
        sample = SchedulePayload(self.clock.now(), None, "UTC", f"{wf.id}:{DEFAULT_KEY}")
        try:
            wf.validate_input(sample)
        except InvalidPayloadError:
            raise InvalidScheduleError(
                f"workflow {wf.id!r} takes {wf.input_annotation!r}, not a SchedulePayload: "
                "a schedule cannot start it"
            ) from None
