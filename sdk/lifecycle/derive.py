"""Lifecycle events derived from one execution's journal records, with no I/O.

``execution_events(execution, steps)`` is a pure function: the same records always
give the same events with the same ids, whatever replays or racing invocations did
(a record is written once, first writer wins), so no event is ever duplicated.

What each record yields:

* the execution item: ``workflow_start`` at ``started_at`` (the first lease), and at
  ``finished_at`` ``workflow_finish`` / ``workflow_fail`` (with its error) /
  ``workflow_cancel``. A parked execution (deployment error) yields no end event.
* a step's records, grouped by the user key (Stepline's own records sit at
  ``key\\x1f...``): ``step_start`` at the earliest ``started_at`` of the group;
  ``step_retry`` for every failed attempt before the last (with its error when a long
  retry recorded one); ``step_finish`` or ``step_error`` at ``finished_at`` with the
  runtime in microseconds. A wait's record holds its wake-up time, not its end: it
  finishes (at its wake-up time) once the journal shows the workflow went past it.

Written for lifecycle events only: a run step's start marker ``key\x1frunning``
(``step_start`` while the step runs), its final record's ``tries`` (retries within one
invocation, with time and error), ``emit`` records (``workflow_message``), and a
suspension on a wait (``workflow_suspend`` then ``workflow_resume``): the latest on the
execution item, every resumed one in a ``\x1fsuspension<attempt>`` record. A suspension
on children alone is left out of a root stream, where the children's events stand.

Every event also carries an order key ``(time it became derivable, path)``: the time
of the record that reveals it (a run step's start is only known once its record is
written at its end), then its place in the workflow (step position, phase). Sorting by
it gives the order in which a reader polling the journal could first see the events,
and, when times tie (a virtual clock), the order the workflow called its steps.
``docs/lifecycle.md`` lists what the journal does not record yet.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sdk.failures import ErrorInfo
from sdk.journal.records import (
    EMIT,
    RUNNING,
    SUSPENSION_PREFIX,
    ExecutionRecord,
    ExecutionStatus,
    StepRecord,
    StepStatus,
    parse_iso,
)
from sdk.lifecycle.model import EventType, LifecycleEvent, event_id, runtime_us, timestamp
from sdk.replay import SLOT

Path = tuple[int, ...]
OrderKey = tuple[datetime, Path]

# Steps whose events a root stream replaces with the awaited children's own events.
CHILD_WAIT_TYPES = frozenset({"invoke_and_wait", "batch_invoke_and_wait"})
_MARKER_TYPES = {"started": "invoke_and_wait", "waiting": "wait_for_event", RUNNING: "run"}
_RETRY = "retry"
_START, _RETRYING, _END = 0, 1, 2  # phases of a step
_WORKFLOW_START: Path = (-1,)
_WORKFLOW_END: Path = (2**62,)
# At a tied time (a virtual clock) a resumption comes first and a suspension last.
_RESUMED = -1
_SUSPENDED = 2**61


@dataclass(frozen=True, slots=True)
class Keyed:
    """An event and where it stands in a stream (``OrderKey``)."""

    order: OrderKey
    event: LifecycleEvent


def execution_events(
    execution: ExecutionRecord, steps: Mapping[str, StepRecord]
) -> list[LifecycleEvent]:
    """The lifecycle events of one execution, in order, without sequence ids."""
    keyed = keyed_events(execution, steps, path=(), nest_children=False)
    return [k.event for k in sorted(keyed, key=lambda k: k.order)]


def keyed_events(
    execution: ExecutionRecord,
    steps: Mapping[str, StepRecord],
    *,
    path: Path,
    nest_children: bool,
) -> list[Keyed]:
    """The events of one execution with their order keys, its path prefixed.

    With ``nest_children`` the steps that await children are left out: a stream shows
    the children's own events in their place (``sdk.lifecycle.stream``).
    """
    maker = _Maker(execution, path)
    out: list[Keyed] = []
    if execution.started_at is not None:
        out.append(maker.workflow(EventType.WORKFLOW_START, execution.started_at, _WORKFLOW_START))
    for suspension in _suspensions(execution, steps):
        if not (nest_children and suspension.kind == "children"):
            out.extend(_suspension_events(maker, suspension))
    groups = _groups(r for r in steps.values() if not r.key.startswith(SUSPENSION_PREFIX))
    for key, records in groups.items():
        main = next((r for r in records if r.key == key), None)
        kind = _step_type(main, records)
        if nest_children and kind in CHILD_WAIT_TYPES:
            continue
        if kind == EMIT:
            out.extend(_message(maker, main) for main in records if main.key == key)
            continue
        out.extend(_step_events(maker, key, kind, main, records, execution, steps))
    end = _END_TYPES.get(execution.status)
    if end is not None:
        finished = execution.finished_at or execution.created_at
        error = execution.error if end is EventType.WORKFLOW_FAIL else None
        runtime = runtime_us(execution.started_at, execution.finished_at)
        out.append(maker.workflow(end, finished, _WORKFLOW_END, error=error, runtime=runtime))
    return out


_END_TYPES = {
    ExecutionStatus.COMPLETED: EventType.WORKFLOW_FINISH,
    ExecutionStatus.FAILED: EventType.WORKFLOW_FAIL,
    ExecutionStatus.CANCELLED: EventType.WORKFLOW_CANCEL,
}


class _Maker:
    """Builds the events of one execution."""

    def __init__(self, execution: ExecutionRecord, path: Path) -> None:
        self.execution = execution
        self.path = path

    def workflow(
        self,
        kind: EventType,
        at: datetime,
        where: Path,
        *,
        error: ErrorInfo | None = None,
        runtime: int | None = None,
    ) -> Keyed:
        return self.make(kind, at, at, where, error=error, runtime=runtime)

    def make(
        self,
        kind: EventType,
        at: datetime,
        seen: datetime,
        where: Path,
        *,
        step_key: str | None = None,
        step_type: str | None = None,
        attempt: int | None = None,
        runtime: int | None = None,
        error: ErrorInfo | None = None,
        message: str | None = None,
        attributes: dict[str, Any] | None = None,
    ) -> Keyed:
        ex = self.execution
        event = LifecycleEvent(
            id=event_id(ex.execution_id, kind, step_key, attempt or 0),
            event_type=kind,
            created_at=timestamp(at),
            execution_id=ex.execution_id,
            workflow_id=ex.workflow_id,
            parent_execution_id=ex.parent_execution_id,
            root_execution_id=ex.root_id,
            step_key=step_key,
            step_type=step_type,
            attempt=attempt,
            runtime_us=runtime,
            error=error,
            message=message,
            attributes=attributes,
        )
        return Keyed((seen, self.path + where), event)


@dataclass(frozen=True, slots=True)
class _Suspended:
    """One suspension on a wait: when, on what, by which lease attempt, when resumed."""

    at: datetime
    kind: str
    attempt: int
    resumed_at: datetime | None


def _suspensions(execution: ExecutionRecord, steps: Mapping[str, StepRecord]) -> list[_Suspended]:
    """Every suspension: those kept in records, and the latest one on the item."""
    found = {
        r.key: _Suspended(r.started_at or execution.created_at, r.callable_name,
                          int(r.key[len(SUSPENSION_PREFIX):]), r.finished_at)
        for r in steps.values()
        if r.key.startswith(SUSPENSION_PREFIX) and r.key[len(SUSPENSION_PREFIX):].isdigit()
    }  # fmt: skip
    latest = execution.suspension
    if latest is not None and latest.record_key not in found:
        found[latest.record_key] = _Suspended(
            latest.at, latest.kind, latest.attempt, execution.resumed_at
        )
    return sorted(found.values(), key=lambda s: s.attempt)


def _suspension_events(maker: _Maker, suspended: _Suspended) -> Iterator[Keyed]:
    yield maker.make(
        EventType.WORKFLOW_SUSPEND, suspended.at, suspended.at, (_SUSPENDED, suspended.attempt),
        attempt=suspended.attempt,
    )  # fmt: skip
    if suspended.resumed_at is not None:
        yield maker.make(
            EventType.WORKFLOW_RESUME, suspended.resumed_at, suspended.resumed_at,
            (_RESUMED, suspended.attempt), attempt=suspended.attempt,
            runtime=runtime_us(suspended.at, suspended.resumed_at),
        )  # fmt: skip


def _message(maker: _Maker, record: StepRecord) -> Keyed:
    """A ``workflow_message`` from an ``emit`` record."""
    at = record.finished_at or record.started_at or maker.execution.created_at
    value = json.loads(record.output or "{}")
    return maker.make(
        EventType.WORKFLOW_MESSAGE, at, at, (record.position,), step_key=record.key,
        step_type=EMIT, message=str(value.get("message", "")), attributes=value.get("attributes"),
    )  # fmt: skip


def _groups(records: Iterable[StepRecord]) -> dict[str, list[StepRecord]]:
    """Records by the user key they belong to, in the order the workflow called them."""
    groups: dict[str, list[StepRecord]] = {}
    for record in sorted(records, key=lambda r: (r.position, r.key)):
        groups.setdefault(record.key.partition(SLOT)[0], []).append(record)
    return groups


def _step_type(main: StepRecord | None, records: list[StepRecord]) -> str:
    if main is not None:
        return main.step_type
    suffix = records[0].key.partition(SLOT)[2]
    if suffix.startswith(_RETRY):
        return "run"
    return _MARKER_TYPES.get(suffix, records[0].step_type)


def _seen(record: StepRecord, fallback: datetime) -> datetime:
    """When ``record`` was written (the journal keeps no write time: its latest timestamp)."""
    return record.finished_at or record.started_at or fallback


def _retries(records: list[StepRecord]) -> dict[int, StepRecord]:
    """Long-retry records (``key\\x1fretry<n>``) by the attempt that failed."""
    found: dict[int, StepRecord] = {}
    for record in records:
        suffix = record.key.partition(SLOT)[2]
        if suffix.startswith(_RETRY) and suffix[len(_RETRY) :].isdigit():
            found[int(suffix[len(_RETRY) :])] = record
    return found


def _step_events(
    maker: _Maker,
    key: str,
    kind: str,
    main: StepRecord | None,
    records: list[StepRecord],
    execution: ExecutionRecord,
    steps: Mapping[str, StepRecord],
) -> Iterator[Keyed]:
    fallback = execution.created_at
    position = records[0].position
    started = min(r.started_at or fallback for r in records)
    first_seen = min(_seen(r, fallback) for r in records)  # a start marker, if written

    def make(
        event: EventType,
        at: datetime,
        seen: datetime,
        phase: Path,
        attempt: int,
        *,
        runtime: int | None = None,
        error: ErrorInfo | None = None,
    ) -> Keyed:
        return maker.make(
            event, at, seen, (position, *phase), step_key=key, step_type=kind,
            attempt=attempt, runtime=runtime, error=error,
        )  # fmt: skip

    yield make(EventType.STEP_START, started, first_seen, (_START,), 1)
    retries = _retries(records)
    ended = _end(main, records, execution, steps)
    last = main.attempts if ended is not None and main is not None else 0
    tries = main.tries if ended is not None and main is not None else ()
    first_try = last - len(tries)  # the attempt the final record's first ``try`` is
    # attempt n failed and n + 1 followed, for every n before the last attempt known
    for attempt in range(1, max(last, max(retries, default=0) + 1)):
        retry = retries.get(attempt)
        at, seen, error = started, started, None
        if retry is not None:  # a long retry: recorded when it failed
            at, seen, error = retry.started_at or started, _seen(retry, fallback), retry.error
        elif ended is not None:  # retried within one invocation: known from the final record
            seen = ended.seen
            if 0 <= attempt - first_try < len(tries):
                tried = tries[attempt - first_try]
                at, error = tried.at, ErrorInfo(tried.error_type, tried.message)
        yield make(EventType.STEP_RETRY, at, seen, (_RETRYING, attempt), attempt + 1, error=error)
    if ended is not None:
        event = EventType.STEP_ERROR if ended.error is not None else EventType.STEP_FINISH
        yield make(event, ended.at, ended.seen, (_END,), max(last, 1),
                   runtime=runtime_us(started, ended.at), error=ended.error)  # fmt: skip


@dataclass(frozen=True, slots=True)
class _Ended:
    at: datetime  # when the step ended
    seen: datetime  # when the journal first showed it
    error: ErrorInfo | None


def _end(
    main: StepRecord | None,
    records: list[StepRecord],
    execution: ExecutionRecord,
    steps: Mapping[str, StepRecord],
) -> _Ended | None:
    """When the step ended and its error, if the journal shows it did."""
    if main is None:
        return None
    fallback = main.started_at or execution.created_at
    if main.step_type == "batch_invoke_and_wait":  # ends when every child has reported
        expected = len(json.loads(main.output or "[]"))
        reports = [r for r in records if r.key != main.key]
        if len(reports) < expected:
            return None
        at = max((_seen(r, fallback) for r in reports), default=fallback)
        return _Ended(at, at, None)
    if main.status is StepStatus.WAITING:
        wake_at = parse_iso(json.loads(main.output or "null"))
        seen = _went_past(main, wake_at, execution, steps)
        return None if seen is None else _Ended(wake_at, max(seen, wake_at), None)
    at = main.finished_at or fallback
    return _Ended(at, at, main.error if main.status is StepStatus.FAILED else None)


def _went_past(
    wait: StepRecord,
    wake_at: datetime,
    execution: ExecutionRecord,
    steps: Mapping[str, StepRecord],
) -> datetime | None:
    """When the journal first showed the workflow past this wait: the earliest later step
    recorded after the wake-up time, or the execution's end (exact for sequential code;
    see ``docs/lifecycle.md``); ``None`` while it does not."""
    seen = [
        _seen(other, execution.created_at)
        for other in steps.values()
        if other.position > wait.position and _seen(other, execution.created_at) >= wake_at
    ]
    if seen:
        return min(seen)
    if execution.status is ExecutionStatus.COMPLETED:
        return execution.finished_at or wake_at
    return None
