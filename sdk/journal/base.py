"""The journal protocol: what the engine and the client need from storage.

Two real implementations exist, ``DynamoJournal`` and ``MemoryJournal``; they
behave the same, and tests run the same scenarios on both.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from sdk.failures import ErrorInfo
from sdk.journal.records import ExecutionRecord, ExecutionStatus, StepRecord


class Journal(Protocol):
    """Durable storage of executions and their steps."""

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
    ) -> list[ExecutionRecord]:
        """Executions, newest first."""
        ...

    def acquire_lease(
        self, execution_id: str, *, owner: str, now: datetime, expires_at: datetime
    ) -> ExecutionRecord:
        """Take the execution for invocation ``owner`` until ``expires_at``; marks it running.

        Raises ``ExecutionNotRunnableError`` when it is finished, missing, or leased to
        another owner whose lease has not expired.
        """
        ...

    def load_steps(self, execution_id: str) -> dict[str, StepRecord]:
        """All recorded steps of an execution, by key, in one query."""
        ...

    def record_step(self, execution_id: str, step: StepRecord) -> StepRecord:
        """Record a step unless one exists at its key; returns whichever record won.

        Only an invocation holding the lease records steps, so an execution whose lease
        was never taken before (``attempt == 1`` once taken) has none to load.
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
    ) -> None:
        """Record the outcome and drop the lease; raises ``LeaseLost`` if ``owner`` lost it."""
        ...

    def suspend_execution(self, execution_id: str, *, owner: str) -> None:
        """Mark the execution suspended and drop the lease.

        Raises ``LeaseLost`` if ``owner`` lost the lease, and ``Cancelled`` (changing
        nothing) if cancellation was requested meanwhile.
        """
        ...

    def fail_execution(self, execution_id: str, *, error: ErrorInfo, now: datetime) -> bool:
        """Mark an unfinished execution failed whoever holds it; False if already finished.

        For when its invocations are exhausted: no invocation will finish it any more.
        """
        ...

    def request_cancel(self, execution_id: str, *, now: datetime) -> ExecutionRecord:
        """Cancel: a pending or suspended execution at once, a running one at its next step
        boundary (it is flagged); a finished one is left as it is. Returns the record after.
        Raises ``ExecutionNotFoundError``."""
        ...

    def list_children(self, execution_id: str) -> list[ExecutionRecord]:
        """The executions started by ``execution_id`` as children."""
        ...

    def release_lease(self, execution_id: str, *, owner: str) -> None:
        """Give the lease back without changing the outcome (best effort)."""
        ...
