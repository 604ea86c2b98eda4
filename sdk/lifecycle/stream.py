"""A root execution's stream: its events and its descendants', in one order.

An awaited child's events stand where the parent awaited it (the position of the
parent's step), in place of that step's own events, as the streaming page lists them
for ``data_pipeline``; a child started without waiting follows the step that started
it. Events are sorted by their order key (``sdk.lifecycle.derive``): when they became
derivable from the journal, then their place in the tree of executions, so parallel
branches come in the order their records were written, and a journal that only grows
(sequential code) only appends to the stream. ``sequence_id`` is the 1-based place in
that order: a reader resumes after any event by passing its ``sequence_id``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import takewhile

from sdk.journal.base import Journal
from sdk.journal.records import ExecutionRecord, ExecutionStatus, StepRecord
from sdk.lifecycle.derive import Keyed, Path, keyed_events
from sdk.lifecycle.model import LifecycleEvent
from sdk.replay import SLOT

# How long a live reader lets the newest events settle while part of the tree runs.
SETTLE = timedelta(milliseconds=50)
_CHILD_BASE = 10  # after a step's own phases (start, retries, end)
_LISTS_CHILDREN = frozenset(
    {"invoke", "batch_invoke", "invoke_and_wait_started", "batch_invoke_and_wait"}
)


@dataclass(frozen=True, slots=True)
class Journaled:
    """One execution as the journal holds it: its item and its step records."""

    execution: ExecutionRecord
    steps: Mapping[str, StepRecord]


def stream_events(root_id: str, executions: Sequence[Journaled]) -> list[LifecycleEvent]:
    """The stream of ``root_id``: its events and its descendants', with sequence ids.

    ``executions`` holds the root and any of its descendants (others are ignored).
    """
    return [k.event for k in _ordered(root_id, executions)]


def _ordered(root_id: str, executions: Sequence[Journaled]) -> list[Keyed]:
    """The stream's events with their order keys, numbered."""
    by_id = {j.execution.execution_id: j for j in executions}
    paths: dict[str, Path | None] = {root_id: ()}

    def path(execution_id: str) -> Path | None:
        """The root's descendants' place in the tree; ``None`` for anything else."""
        if execution_id not in paths:
            paths[execution_id] = None  # a cycle can never place itself
            child = by_id[execution_id].execution
            parent = child.parent_execution_id
            if parent is not None and parent in by_id:
                above = path(parent)
                if above is not None:
                    paths[execution_id] = above + _place(child, by_id[parent].steps)
        return paths[execution_id]

    keyed: list[Keyed] = []
    for journaled in executions:
        where = path(journaled.execution.execution_id)
        if where is not None:
            keyed.extend(
                keyed_events(journaled.execution, journaled.steps, path=where, nest_children=True)
            )
    keyed.sort(key=lambda k: k.order)
    return [Keyed(k.order, k.event.at(n)) for n, k in enumerate(keyed, start=1)]


def _place(child: ExecutionRecord, parent_steps: Mapping[str, StepRecord]) -> Path:
    """Where ``child`` stands among its parent's events: at the step that started it,
    in the order the step listed its children."""
    position = child.parent_step_position or 0
    for record in parent_steps.values():
        if record.step_type in _LISTS_CHILDREN and record.position == position:
            ids = json.loads(record.output or "null")
            ids = ids if isinstance(ids, list) else [ids]
            if child.execution_id in ids:
                return (position, _CHILD_BASE + ids.index(child.execution_id))
    # Not listed (yet): an awaited child names its slot in its report key.
    slot = (child.parent_step_key or "").partition(SLOT)[2]
    return (position, _CHILD_BASE + (int(slot) if slot.isdigit() else 0))


@dataclass(frozen=True, slots=True)
class StreamPage:
    """What a reader gets at one read: the events after its place, and whether the
    stream is over (the root's terminal event is among them or before them)."""

    events: list[LifecycleEvent]
    done: bool
    last_sequence_id: int | None  # the reader's place after these events


def read_stream(
    journal: Journal, execution_id: str, *, after: int | None = None
) -> list[LifecycleEvent]:
    """The events of ``execution_id``'s stream so far, those after ``after`` if given.

    Reads the execution, its descendants (one query each) and their steps.
    """
    return read_page(journal, execution_id, after=after).events


def read_page(
    journal: Journal,
    execution_id: str,
    *,
    after: int | None = None,
    now: datetime | None = None,
    settle: timedelta = SETTLE,
) -> StreamPage:
    """The events of ``execution_id``'s stream after ``after``, for a live reader.

    With ``now``, while any execution of the tree runs, events the journal showed less
    than ``settle`` before ``now`` are held back (with everything after them): writes
    of concurrent branches and of children in other Lambdas become visible slightly out
    of order, and a reader must never be handed an event before one that sorts ahead of
    it. Raises ``ExecutionNotFoundError`` for an unknown execution.
    """
    loaded = _load_tree(journal, execution_id)
    keyed = _ordered(execution_id, loaded)
    if now is not None and any(j.execution.status is ExecutionStatus.RUNNING for j in loaded):
        cutoff = now - settle
        keyed = list(takewhile(lambda k: k.order[0] <= cutoff, keyed))
    done = any(
        k.event.event_type.terminal and k.event.execution_id == execution_id for k in keyed
    )
    events = [k.event for k in keyed if after is None or (k.event.sequence_id or 0) > after]
    last = events[-1].sequence_id if events else after
    return StreamPage(events, done, last)


def _load_tree(journal: Journal, execution_id: str) -> list[Journaled]:
    """The execution and its descendants (one query each), with their steps."""
    records = {execution_id: journal.get_execution(execution_id)}
    pending = [execution_id]
    while pending:
        for child in journal.list_children(pending.pop(0)):
            records[child.execution_id] = child
            pending.append(child.execution_id)
    return [Journaled(r, journal.load_steps(r.execution_id)) for r in records.values()]
