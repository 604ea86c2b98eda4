"""A finished child's outcome, delivered to the parent waiting on it: one path for all.

Whoever finishes an execution (its own invocation, a cancellation, the failure
destination, the sweeper) leaves it on the sweeper's list (``due_at``) until
``deliver_outcome`` has written the outcome into the parent's journal, woken the parent
and taken it off the list. Every stage is safe to repeat, so a crash anywhere in between
is repaired by the next attempt or by the sweeper.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING

from sdk.errors import ExecutionNotFoundError
from sdk.failures import ErrorInfo
from sdk.journal.base import Journal
from sdk.journal.records import ExecutionRecord, ExecutionStatus, StepRecord, StepStatus

if TYPE_CHECKING:
    from sdk.client import Invoker

CANCELLED_TYPE = "sdk.errors:ExecutionCancelledError"


def report_of(child: ExecutionRecord) -> StepRecord:
    """The step record a finished child leaves in its parent's journal."""
    assert child.parent_step_key is not None
    completed = child.status is ExecutionStatus.COMPLETED
    error = child.error
    if not completed and error is None:
        error = ErrorInfo(CANCELLED_TYPE, f"execution {child.execution_id!r} was cancelled")
    return StepRecord(
        child.parent_step_key,
        "invoke_and_wait",
        child.workflow_id,
        StepStatus.COMPLETED if completed else StepStatus.FAILED,
        output=child.output if completed else json.dumps(child.execution_id),
        output_tag=child.output_tag if completed else None,
        error=None if completed else error,
        started_at=child.created_at,
        finished_at=child.finished_at,
        position=child.parent_step_position or 0,
    )


def deliver_outcome(
    journal: Journal, invoker: Invoker | None, child: ExecutionRecord, *, now: datetime
) -> None:
    """Report finished ``child`` to its waiting parent, if any, and take it off the list.

    The report is a conditional put (a repeat finds it there) written at ``now``; the parent
    is woken with one atomic increment and invoked only once it has every report it waits
    for.
    """
    assert child.status.finished, f"{child.execution_id} is not finished"
    parent = child.parent_execution_id
    if parent is not None and child.parent_step_key is not None:
        journal.record_step(parent, report_of(journal.load_values(child)), now=now)
        try:
            woken = journal.wake(parent)
        except ExecutionNotFoundError:
            woken = None
        if woken is not None and woken.needs_invocation and invoker is not None:
            invoker.invoke_async(parent)
    if child.due_at is not None:
        journal.set_due(child.execution_id, due_at=None, expected=child.due_at)
