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

from sdk.failures import ErrorInfo
from sdk.journal.records import (
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
_MARKER_TYPES = {"started": "invoke_and_wait", "waiting": "wait_for_event"}
_RETRY = "retry"
_START, _RETRYING, _END = 0, 1, 2  # phases of a step
_WORKFLOW_START: Path = (-1,)
_WORKFLOW_END: Path = (2**62,)


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
    groups = _groups(steps.values())
    for key, records in groups.items():
        main = next((r for r in records if r.key == key), None)
        kind = _step_type(main, records)
        if nest_children and kind in CHILD_WAIT_TYPES:
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
        )
        return Keyed((seen, self.path + where), event)


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
    first = min(records, key=lambda r: r.started_at or fallback)
    started = first.started_at or fallback

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

    yield make(EventType.STEP_START, started, _seen(first, fallback), (_START,), 1)
    retries = _retries(records)
    ended = _end(main, records, execution, steps)
    last = main.attempts if ended is not None and main is not None else 0
    # attempt n failed and n + 1 followed, for every n before the last attempt known
    for attempt in range(1, max(last, max(retries, default=0) + 1)):
        retry = retries.get(attempt)
        at = retry.started_at or started if retry is not None else started
        if retry is not None:
            seen = _seen(retry, fallback)
        else:  # retried within one invocation: only the final record counts the attempts
            seen = ended[0] if ended is not None else at
        error = None if retry is None else retry.error
        yield make(EventType.STEP_RETRY, at, seen, (_RETRYING, attempt), attempt + 1, error=error)
    if ended is not None:
        at, error = ended
        event = EventType.STEP_ERROR if error is not None else EventType.STEP_FINISH
        yield make(event, at, at, (_END,), max(last, 1), runtime=runtime_us(started, at),
                   error=error)  # fmt: skip


def _end(
    main: StepRecord | None,
    records: list[StepRecord],
    execution: ExecutionRecord,
    steps: Mapping[str, StepRecord],
) -> tuple[datetime, ErrorInfo | None] | None:
    """When the step ended and its error, if the journal shows it did."""
    if main is None:
        return None
    fallback = main.started_at or execution.created_at
    if main.step_type == "batch_invoke_and_wait":  # ends when every child has reported
        expected = len(json.loads(main.output or "[]"))
        reports = [r for r in records if r.key != main.key]
        if len(reports) < expected:
            return None
        return max((_seen(r, fallback) for r in reports), default=fallback), None
    if main.status is StepStatus.WAITING:
        wake_at = parse_iso(json.loads(main.output or "null"))
        return (wake_at, None) if _went_past(main, wake_at, execution, steps) else None
    return main.finished_at or fallback, main.error if main.status is StepStatus.FAILED else None


def _went_past(
    wait: StepRecord,
    wake_at: datetime,
    execution: ExecutionRecord,
    steps: Mapping[str, StepRecord],
) -> bool:
    """Did the workflow get past this wait? It completed, or it recorded a later step
    after the wake-up time (exact for sequential code; see ``docs/lifecycle.md``)."""
    if execution.status is ExecutionStatus.COMPLETED:
        return True
    return any(
        other.position > wait.position and _seen(other, execution.created_at) >= wake_at
        for other in steps.values()
    )
