"""The in-memory journal: the same semantics as DynamoDB, in a process.

Used by unit tests and benchmarks. Thread-safe, so concurrent invocations race
on it exactly as they would on conditional DynamoDB writes. Every write is measured
as the DynamoDB item it would be (``sdk.journal.fit``) and refused, or its value put
in the value store, where DynamoDB's journal would do the same. Records carry the
``expires_at`` DynamoDB's items would (``sdk.journal.retention``); nothing expires here.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import datetime
from typing import Any

from sdk.errors import (
    Cancelled,
    ExecutionNotFoundError,
    ExecutionNotRunnableError,
    LeaseLost,
    WokenUp,
)
from sdk.failures import ErrorInfo
from sdk.journal.fit import execution_items, max_value_bytes, step_item
from sdk.journal.leases import (
    check_creatable,
    check_runnable,
    lease_lost_message,
    not_parked_message,
    woken_message,
)
from sdk.journal.records import (
    LEASE_SWEEP_SLACK,
    RESUME_GRACE,
    ExecutionRecord,
    ExecutionStatus,
    StepRecord,
    Suspension,
    epoch_ms,
)
from sdk.journal.retention import DEFAULT_RETENTION, Retention
from sdk.values import ValueStore


class MemoryJournal:
    """A ``Journal`` kept in dictionaries; ``values`` takes values past the item limit,
    ``retention`` sets the records' ``expires_at``."""

    def __init__(
        self, *, values: ValueStore | None = None, retention: Retention = DEFAULT_RETENTION
    ) -> None:
        self._lock = threading.Lock()
        self._executions: dict[str, ExecutionRecord] = {}
        self._steps: dict[str, dict[str, StepRecord]] = {}
        self.values = values
        self.retention = retention

    @property
    def max_value_bytes(self) -> int:
        return max_value_bytes(self.values)

    def load_values(self, record: ExecutionRecord) -> ExecutionRecord:
        return record  # kept whole

    def create_execution(self, record: ExecutionRecord) -> ExecutionRecord:
        record = record.evolve(expires_at=self.retention.open_expiry(record.created_at))
        execution_items(record, self.values)  # refuses what DynamoDB would
        with self._lock:
            existing = self._executions.get(record.execution_id)
            if existing is not None:
                check_creatable(existing, record)
                return existing
            self._executions[record.execution_id] = record
            self._steps[record.execution_id] = {}
            return record

    def get_execution(self, execution_id: str) -> ExecutionRecord:
        with self._lock:
            return self._get(execution_id)

    def _leased(self, execution_id: str, owner: str) -> ExecutionRecord:
        """The execution, if ``owner`` holds its lease; else ``LeaseLost``."""
        current = self._get(execution_id)
        if current.lease_owner != owner:
            raise LeaseLost(lease_lost_message(execution_id, owner))
        return current

    def _applied_before(self, execution_id: str, owner: str, status: ExecutionStatus) -> bool:
        """Did ``owner`` already make this write (a retry whose first attempt was applied)?"""
        current = self._get(execution_id)
        return current.lease_owner != owner and (current.closed_by, current.status) == (
            owner,
            status,
        )

    def _store_unleased(
        self, current: ExecutionRecord, closed_by: str | None, **changes: Any
    ) -> None:
        """Store ``current`` with ``changes``, its lease dropped and its version bumped."""
        self._executions[current.execution_id] = current.evolve(
            lease_owner=None,
            lease_expires_ms=None,
            version=current.version + 1,
            closed_by=closed_by,
            **changes,
        )

    def _get(self, execution_id: str) -> ExecutionRecord:
        try:
            return self._executions[execution_id]
        except KeyError:
            raise ExecutionNotFoundError(f"no execution {execution_id!r}") from None

    def list_executions(
        self,
        *,
        workflow_id: str | None = None,
        status: ExecutionStatus | None = None,
        limit: int = 100,
        before: tuple[datetime, str] | None = None,
    ) -> list[ExecutionRecord]:
        with self._lock:
            found = [
                record
                for record in self._executions.values()
                if (workflow_id is None or record.workflow_id == workflow_id)
                and (status is None or record.status == status)
                and (before is None or (record.created_at, record.execution_id) < before)
            ]
        found.sort(key=lambda r: (r.created_at, r.execution_id), reverse=True)
        return found[:limit]

    def acquire_lease(
        self, execution_id: str, *, owner: str, now: datetime, expires_at: datetime
    ) -> ExecutionRecord:
        with self._lock:
            current = self._executions.get(execution_id)
            check_runnable(execution_id, current, now, owner)
            assert current is not None
            taken = current.evolve(
                status=ExecutionStatus.RUNNING,
                started_at=current.started_at or now,
                resumed_at=current.resumed_at or now,
                attempt=current.attempt + 1,
                lease_owner=owner,
                lease_expires_ms=epoch_ms(expires_at),
                version=current.version + 1,
                due_at=expires_at + LEASE_SWEEP_SLACK,
                previous_owner=current.lease_owner,
            )
            self._executions[execution_id] = taken
            return taken

    def note_dead_invocations(self, execution_id: str, *, owner: str, count: int) -> None:
        with self._lock:
            current = self._leased(execution_id, owner)
            self._executions[execution_id] = current.evolve(dead_invocations=count)

    def load_steps(self, execution_id: str) -> dict[str, StepRecord]:
        with self._lock:
            return dict(self._steps.get(execution_id, {}))

    def record_step(self, execution_id: str, step: StepRecord, *, now: datetime) -> StepRecord:
        step = replace(step, expires_at=self.retention.open_expiry(now))
        step_item(execution_id, step.to_item(execution_id), self.values)
        with self._lock:
            steps = self._steps.setdefault(execution_id, {})
            return steps.setdefault(step.key, step)

    def wake(self, execution_id: str) -> ExecutionRecord:
        with self._lock:
            current = self._get(execution_id)
            woken = current.evolve(wakeups=current.wakeups + 1)
            self._executions[execution_id] = woken
            return woken

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
        with self._lock:
            if self._applied_before(execution_id, owner, status):
                return
            current = self._leased(execution_id, owner)
            # measured as DynamoDB's journal would write it (the input is there already)
            after = current.evolve(input=None, output=output, output_tag=output_tag, error=error)
            execution_items(after, self.values)
            self._store_unleased(
                current,
                owner,
                status=status,
                output=output,
                output_tag=output_tag,
                error=error,
                finished_at=now,
                due_at=due_at,
                expires_at=self.retention.finished_expiry(now),
            )

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
        with self._lock:
            if self._applied_before(execution_id, owner, ExecutionStatus.SUSPENDED):
                return
            current = self._leased(execution_id, owner)
            if current.cancel_requested:
                raise Cancelled(f"execution {execution_id!r} was cancelled")
            if current.wakeups != seen_wakeups:
                raise WokenUp(woken_message(execution_id), current.wakeups)
            seen = {} if suspension is None else {"suspension": suspension, "resumed_at": None}
            self._store_unleased(
                current, owner, status=ExecutionStatus.SUSPENDED, wake_need=wake_need,
                due_at=due_at, **seen,
            )  # fmt: skip

    def park_execution(
        self, execution_id: str, *, owner: str, error: ErrorInfo, now: datetime
    ) -> None:
        with self._lock:
            if self._applied_before(execution_id, owner, ExecutionStatus.PARKED):
                return
            current = self._leased(execution_id, owner)
            self._store_unleased(
                current, owner, status=ExecutionStatus.PARKED, error=error, due_at=None
            )

    def resume_execution(self, execution_id: str, *, now: datetime) -> ExecutionRecord:
        with self._lock:
            current = self._get(execution_id)
            if current.status is not ExecutionStatus.PARKED:
                raise ExecutionNotRunnableError(not_parked_message(current))
            resumed = current.evolve(
                status=ExecutionStatus.SUSPENDED,
                error=None,
                wake_need=current.wakeups,
                due_at=now + RESUME_GRACE,
                version=current.version + 1,
            )
            self._executions[execution_id] = resumed
            return resumed

    def fail_execution(
        self, execution_id: str, *, error: ErrorInfo, now: datetime
    ) -> ExecutionRecord | None:
        with self._lock:
            current = self._get(execution_id)
            live = current.lease_owner is not None and (current.lease_expires_ms or 0) >= epoch_ms(
                now
            )
            if current.status.finished or live:
                return None
            self._store_unleased(
                current, None, status=ExecutionStatus.FAILED, error=error, finished_at=now,
                due_at=now, expires_at=self.retention.finished_expiry(now),
            )  # fmt: skip
            return self._executions[execution_id]

    def request_cancel(self, execution_id: str, *, now: datetime) -> ExecutionRecord:
        with self._lock:
            current = self._get(execution_id)
            if current.status.finished:
                return current
            if current.status is ExecutionStatus.RUNNING:  # parked, pending, suspended: at once
                after = current.evolve(cancel_requested=True, version=current.version + 1)
            else:
                after = current.evolve(
                    status=ExecutionStatus.CANCELLED,
                    finished_at=now,
                    cancel_requested=True,
                    version=current.version + 1,
                    due_at=now,
                    expires_at=self.retention.finished_expiry(now),
                )
            self._executions[execution_id] = after
            return after

    def list_due(self, now: datetime, *, limit: int = 100) -> list[ExecutionRecord]:
        with self._lock:
            due = [r for r in self._executions.values() if r.due_at is not None and r.due_at <= now]
        return sorted(due, key=lambda r: (r.due_at or now, r.execution_id))[:limit]

    def set_due(
        self, execution_id: str, *, due_at: datetime | None, expected: datetime | None
    ) -> bool:
        with self._lock:
            current = self._get(execution_id)
            if current.due_at != expected:
                return False
            self._executions[execution_id] = current.evolve(due_at=due_at)
            return True

    def list_children(self, execution_id: str) -> list[ExecutionRecord]:
        with self._lock:
            found = [r for r in self._executions.values() if r.parent_execution_id == execution_id]
        return sorted(found, key=lambda r: (r.created_at, r.execution_id))

    def release_lease(self, execution_id: str, *, owner: str) -> None:
        with self._lock:
            current = self._executions.get(execution_id)
            if current is not None and current.lease_owner == owner:
                self._store_unleased(current, owner)
