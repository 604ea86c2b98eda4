"""The sweeper: no execution stays stuck.

Every execution that may need help carries ``due_at`` in the sparse by-due index: a
created one until its first invocation takes the lease (the start may have been lost),
a running one until its lease expires (its invocation may die), a suspended one shortly
after its earliest timer (the timer may be lost), a finished child until its outcome
reached its parent. Run every minute (a scheduled Lambda on AWS; the emulator's clock;
the fixture's ``advance()``), the sweeper delivers pending outcomes, wakes the waiters
of events whose publisher died before it could (``sdk.events.waking``), and re-drives the
rest through the runner, which takes over an expired lease and, once invocations have
died ``MAX_DEAD_INVOCATIONS`` times, fails the execution with the reason.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sdk.clock import Clock, SystemClock
from sdk.delivery import deliver_outcome
from sdk.events.feeds import BatchFeed
from sdk.events.log import log_for
from sdk.events.waking import sweep_pending
from sdk.journal.base import Journal
from sdk.journal.records import ExecutionRecord, ExecutionStatus

if TYPE_CHECKING:
    from sdk.client import Invoker
    from sdk.workflow import Workflow

START_GRACE = timedelta(minutes=2)  # a created execution not yet started by then: re-drive
TIMER_GRACE = timedelta(minutes=1)  # a timer not delivered by then: re-drive
REPORT_GRACE = timedelta(seconds=30)  # a finished child's report not delivered by then
SWEEP_RETRY = timedelta(minutes=2)  # after a re-drive, look again this much later
MAX_DEAD_INVOCATIONS = 3
logger = logging.getLogger("stepline.sweeper")


def new_execution(
    journal: Journal,
    workflow: Workflow[Any],
    execution_id: str,
    payload: Any,
    now: datetime,
    **fields: Any,
) -> ExecutionRecord:
    """A pending execution of ``workflow`` created at ``now``, its input checked against
    ``journal``'s limit, due for the sweeper should its first invocation be lost.
    ``fields``: more of its ``ExecutionRecord`` (``user_id``...)."""
    return ExecutionRecord(
        execution_id=execution_id,
        workflow_id=workflow.id,
        status=ExecutionStatus.PENDING,
        created_at=now,
        input=workflow.encode_input(payload, limit=journal.max_value_bytes),
        due_at=now + START_GRACE,
        expires_at=journal.retention.open_expiry(now),
        **fields,
    )


@dataclass(frozen=True)
class SweepReport:
    """What one sweep did."""

    delivered: int = 0
    redriven: int = 0
    errors: int = 0  # executions left for the next sweep after an AWS error

    def to_dict(self) -> dict[str, int]:
        return {"delivered": self.delivered, "redriven": self.redriven, "errors": self.errors}


class Sweeper:
    """Looks at every execution whose ``due_at`` has come."""

    def __init__(
        self,
        journal: Journal,
        invoker: Invoker,
        clock: Clock | None = None,
        *,
        page: int = 100,
        batches: BatchFeed | None = None,
    ) -> None:
        """``batches``: the queues of batched workflows, for events their publisher did
        not get to queue."""
        self.journal = journal
        self.batches = batches
        self.invoker = invoker
        self.clock: Clock = clock or SystemClock()
        self.page = page
        self.topics = log_for(journal, self.clock)

    def sweep(self, *, max_pages: int = 10) -> SweepReport:
        """Deliver the pending outcomes and re-drive the rest; one page at a time."""
        counts = {"delivered": 0, "redriven": 0, "errors": 0}
        now = self.clock.now()
        counts["delivered"] += self._sweep_events(now)
        for _ in range(max_pages):
            due = self.journal.list_due(now, limit=self.page)
            for record in due:
                try:
                    done = self._help(record, now)
                except Exception:  # one execution's trouble never blocks the others
                    logger.exception("sweep of %s failed", record.execution_id)
                    done = "errors"
                if done is not None:
                    counts[done] += 1
            if len(due) < self.page:
                break
        return SweepReport(**counts)

    def _sweep_events(self, now: datetime) -> int:
        """Wake the waiters of events whose publisher died before it could."""
        if self.topics is None:
            return 0
        try:
            return sweep_pending(self.topics, self.journal, self.invoker, now, self.batches)
        except Exception:  # the next sweep tries again
            logger.exception("sweep of pending events failed")
            return 0

    def _help(self, record: ExecutionRecord, now: datetime) -> str | None:
        """Deliver or re-drive one execution; what was done, if anything."""
        if record.status.finished:
            deliver_outcome(self.journal, self.invoker, record, now=now)
            return "delivered"
        # Move it on first, so the next sweep does not re-drive it again at once; the
        # runner's lease (or its suspension) sets its next due time itself.
        later = now + SWEEP_RETRY
        if self.journal.set_due(record.execution_id, due_at=later, expected=record.due_at):
            self.invoker.invoke_async(record.execution_id)
            return "redriven"
        return None  # it moved on meanwhile
