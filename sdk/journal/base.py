"""The journal protocol: what the engine and the client need from storage.

Two real implementations exist, ``DynamoJournal`` and ``MemoryJournal``; they
behave the same, and tests run the same scenarios on both.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from sdk.failures import ErrorInfo
from sdk.journal.records import ExecutionRecord, ExecutionStatus, StepRecord, Suspension
from sdk.journal.retention import Retention


class Journal(Protocol):
    """Durable storage of executions and their steps.

    Every write is checked against DynamoDB's item limit before it is sent; values past
    it go to the journal's value store (``sdk.values``), if it was given one. Every item
    written carries its time to live, from ``retention`` (``sdk.journal.retention``):
    ``now`` + lifetime + retention for everything but a finished execution's item, which
    expires ``retention`` after it finished.
    """

    @property
    def retention(self) -> Retention:
        """The stack's retention period and maximum execution lifetime."""
        ...

    @property
    def max_value_bytes(self) -> int:
        """The longest value (JSON bytes) it stores: an input, a step result, an output."""
        ...

    def load_values(self, record: ExecutionRecord) -> ExecutionRecord:
        """``record`` with its input and output, when they live in items of their own.

        ``get_execution``, ``list_executions`` and the lease read the execution item
        alone (see ``ExecutionRecord.loaded``); this reads the rest, nothing if loaded.
        """
        ...

    def create_execution(self, record: ExecutionRecord) -> ExecutionRecord:
        """Store a new execution; an identical existing one is returned as is.

        Raises ``ExecutionConflictError`` when the id is taken by another workflow or input.
        """
        ...

    def get_execution(self, execution_id: str) -> ExecutionRecord:
        """Raises ``ExecutionNotFoundError``."""
        ...

    def list_executions(
        self,
        *,
        workflow_id: str | None = None,
        status: ExecutionStatus | None = None,
        limit: int = 100,
        before: tuple[datetime, str] | None = None,
    ) -> list[ExecutionRecord]:
        """Executions, newest first (by creation time, then id); with ``before`` (the
        ``(created_at, execution_id)`` of the last one of a page) those after it."""
        ...

    def acquire_lease(
        self, execution_id: str, *, owner: str, now: datetime, expires_at: datetime
    ) -> ExecutionRecord:
        """Take the execution for invocation ``owner`` until ``expires_at``; marks it running.

        The sweeper looks at it again at ``expires_at`` (``due_at``). ``previous_owner`` of
        the result names a holder whose lease expired without being released (a dead
        invocation). Taking a lease ``owner`` already holds succeeds again: a retried
        request whose first attempt was applied. Raises ``ExecutionNotRunnableError`` when
        it is finished, missing, or leased to another owner whose lease has not expired.
        """
        ...

    def note_dead_invocations(self, execution_id: str, *, owner: str, count: int) -> None:
        """Record that ``count`` invocations died holding the lease (by its holder ``owner``).

        Raises ``LeaseLost`` if ``owner`` no longer holds it.
        """
        ...

    def load_steps(self, execution_id: str) -> dict[str, StepRecord]:
        """All recorded steps of an execution, by key, in one query."""
        ...

    def record_step(self, execution_id: str, step: StepRecord, *, now: datetime) -> StepRecord:
        """Record a step (written at ``now``) unless one exists at its key; returns whichever
        record won, with its ``expires_at``.

        Only an invocation holding the lease records steps, so an execution whose lease
        was never taken before (``attempt == 1`` once taken) has none to load.
        """
        ...

    def wake(self, execution_id: str) -> ExecutionRecord:
        """Record a wake-up (one atomic increment of ``wakeups``); returns the record after.

        The caller invokes the runner when ``needs_invocation`` holds. Raises
        ``ExecutionNotFoundError``.
        """
        ...

    def finish_execution(
        self,
        execution_id: str,
        *,
        owner: str,
        status: ExecutionStatus,
        now: datetime,
        output: str | None = None,
        output_tag: str | None = None,
        error: ErrorInfo | None = None,
        due_at: datetime | None = None,
    ) -> None:
        """Record the outcome and drop the lease; raises ``LeaseLost`` if ``owner`` lost it.

        ``due_at`` keeps the execution on the sweeper's list (an outcome still to report).
        A retried request whose first attempt was applied succeeds.
        """
        ...

    def suspend_execution(
        self,
        execution_id: str,
        *,
        owner: str,
        seen_wakeups: int,
        wake_need: int,
        due_at: datetime | None,
        suspension: Suspension | None = None,
    ) -> None:
        """Mark the execution suspended and drop the lease, if no wake-up arrived since
        ``owner`` counted ``seen_wakeups``; it then needs ``wake_need`` wake-ups in all.

        ``suspension`` (a wait, not a hand-over to a fresh invocation) replaces the item's
        latest suspension and clears ``resumed_at``, which the next lease sets.

        Raises ``WokenUp`` (changing nothing) if wake-ups arrived, ``Cancelled`` if
        cancellation was requested, ``LeaseLost`` if ``owner`` lost the lease. A retried
        request whose first attempt was applied succeeds.
        """
        ...

    def park_execution(
        self, execution_id: str, *, owner: str, error: ErrorInfo, now: datetime
    ) -> None:
        """Park the execution with the reason and drop the lease (``owner`` must hold it).

        Raises ``LeaseLost`` if ``owner`` lost the lease; a retried request whose first
        attempt was applied succeeds.
        """
        ...

    def resume_execution(self, execution_id: str, *, now: datetime) -> ExecutionRecord:
        """Make a parked execution runnable again (suspended, due for an invocation).

        Returns the record after. Raises ``ExecutionNotRunnableError`` if it is not parked,
        ``ExecutionNotFoundError`` if it does not exist.
        """
        ...

    def fail_execution(
        self, execution_id: str, *, error: ErrorInfo, now: datetime
    ) -> ExecutionRecord | None:
        """Mark an unfinished execution failed, if nobody holds a live lease on it.

        For when its invocations are exhausted or keep dying. Returns the record after,
        or ``None`` if it is finished or an unexpired lease is held. The result stays on
        the sweeper's list until its outcome is delivered (``clear_due``).
        """
        ...

    def request_cancel(self, execution_id: str, *, now: datetime) -> ExecutionRecord:
        """Cancel: a pending or suspended execution at once, a running one at its next step
        boundary (it is flagged); a finished one is left as it is. Returns the record after.
        One cancelled at once stays on the sweeper's list until its outcome is delivered.
        Raises ``ExecutionNotFoundError``."""
        ...

    def list_due(self, now: datetime, *, limit: int = 100) -> list[ExecutionRecord]:
        """Executions whose ``due_at`` has come, oldest first (the sparse by-due index)."""
        ...

    def set_due(
        self, execution_id: str, *, due_at: datetime | None, expected: datetime | None
    ) -> bool:
        """Move (or with ``None`` clear) ``due_at`` if it is still ``expected``; False if not."""
        ...

    def list_children(self, execution_id: str) -> list[ExecutionRecord]:
        """The executions started by ``execution_id`` as children."""
        ...

    def release_lease(self, execution_id: str, *, owner: str) -> None:
        """Give the lease back without changing the outcome (best effort)."""
        ...
