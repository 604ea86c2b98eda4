"""Cancelling an execution and, with it, every execution it started."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sdk.delivery import deliver_outcome
from sdk.journal.base import Journal
from sdk.journal.records import ExecutionRecord

if TYPE_CHECKING:
    from sdk.client import Invoker


def cancel_tree(
    journal: Journal, execution_id: str, now: datetime, invoker: Invoker | None = None
) -> ExecutionRecord:
    """Request cancellation of an execution and of its unfinished descendants.

    Pending and suspended executions are cancelled at once (and a waiting parent is told,
    through ``invoker``); running ones stop at their next step boundary. Raises
    ``ExecutionNotFoundError`` for an unknown id.
    """
    record = journal.request_cancel(execution_id, now=now)
    if record.status.finished and record.due_at is not None:
        deliver_outcome(journal, invoker, record, now=now)
    cancel_children(journal, execution_id, now, invoker)
    return record


def cancel_children(
    journal: Journal, execution_id: str, now: datetime, invoker: Invoker | None = None
) -> None:
    """Cancel every unfinished execution ``execution_id`` started, and theirs."""
    for child in journal.list_children(execution_id):
        if not child.status.finished:
            cancel_tree(journal, child.execution_id, now, invoker)
