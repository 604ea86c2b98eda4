"""The rules both journals apply when an execution is created or leased.

The DynamoDB journal enforces them in condition expressions and calls these
only to explain a refusal; the memory journal calls them to decide.
"""

from __future__ import annotations

from datetime import datetime

from sdk.errors import ExecutionConflictError, ExecutionNotRunnableError, LeaseBusyError
from sdk.journal.records import RUNNABLE, ExecutionRecord, ExecutionStatus, epoch_ms


def check_creatable(existing: ExecutionRecord, wanted: ExecutionRecord) -> None:
    """An id may be created again only for the same workflow and input (an idempotent start)."""
    if existing.workflow_id != wanted.workflow_id or existing.input != wanted.input:
        raise ExecutionConflictError(
            f"execution id {wanted.execution_id!r} is already used by workflow "
            f"{existing.workflow_id!r} with a different input"
        )


def check_runnable(
    execution_id: str, current: ExecutionRecord | None, now: datetime, owner: str
) -> None:
    """Raise ``ExecutionNotRunnableError`` unless invocation ``owner`` may take ``current``.

    A lease is free when nobody holds it, when it has expired, or when ``owner`` itself
    holds it (a retried request whose first attempt was applied: owners name one
    invocation attempt each, so no other invocation ever shares one).
    """
    if current is None:
        raise ExecutionNotRunnableError(f"no execution {execution_id!r}")
    if current.status is ExecutionStatus.PARKED:
        reason = "" if current.error is None else f": {current.error.message}"
        raise ExecutionNotRunnableError(
            f"execution {execution_id!r} is parked{reason}; resume it after a fix"
        )
    if current.status not in RUNNABLE:
        raise ExecutionNotRunnableError(
            f"execution {execution_id!r} is already {current.status.value}"
        )
    held = current.lease_owner is not None and current.lease_owner != owner
    if held and (current.lease_expires_ms or 0) >= epoch_ms(now):
        raise LeaseBusyError(
            f"execution {execution_id!r} is being run by another invocation "
            f"(lease held until {current.lease_expires_ms} ms)"
        )


def lease_lost_message(execution_id: str, owner: str) -> str:
    return f"execution {execution_id!r} is no longer leased to {owner}"


def woken_message(execution_id: str) -> str:
    return f"execution {execution_id!r} was woken up since its journal was loaded"


def not_parked_message(current: ExecutionRecord) -> str:
    return (
        f"execution {current.execution_id!r} is {current.status.value}, not parked: "
        "only a parked execution can be resumed"
    )
