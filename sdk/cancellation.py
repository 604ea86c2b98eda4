"""Cancelling an execution and, with it, every execution it started."""

from __future__ import annotations

from datetime import datetime

from sdk.journal.base import Journal
from sdk.journal.records import ExecutionRecord


def cancel_tree(journal: Journal, execution_id: str, now: datetime) -> ExecutionRecord:
    """Request cancellation of an execution and of its unfinished descendants.

    Pending and suspended executions are cancelled at once; running ones stop at their
    next step boundary. Raises ``ExecutionNotFoundError`` for an unknown id.
    """
    record = journal.request_cancel(execution_id, now=now)
    cancel_children(journal, execution_id, now)
    return record


def cancel_children(journal: Journal, execution_id: str, now: datetime) -> None:
    """Cancel every unfinished execution ``execution_id`` started, and theirs."""
    for child in journal.list_children(execution_id):
        if not child.status.finished:
            cancel_tree(journal, child.execution_id, now)
