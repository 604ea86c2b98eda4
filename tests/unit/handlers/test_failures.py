"""The runner's on-failure destination marks an exhausted execution failed."""

from __future__ import annotations

import pytest

from handlers.failures import EXHAUSTED_TYPE, FailedInvocation, FailureRecorder
from sdk import ExecutionStatus, MemoryJournal, VirtualClock
from sdk.journal import ExecutionRecord

RECORD = {
    "version": "1.0",
    "requestContext": {"requestId": "r-1", "condition": "RetriesExhausted",
                       "approximateInvokeCount": 3},
    "requestPayload": {"execution_id": "e-1"},
    "responsePayload": {"errorType": "Runtime.ExitError", "errorMessage": "exit status 1"},
}  # fmt: skip


def test_an_exhausted_execution_is_marked_failed_with_the_reason() -> None:
    journal, clock = MemoryJournal(), VirtualClock()
    journal.create_execution(
        ExecutionRecord("e-1", "wf", ExecutionStatus.RUNNING, created_at=clock.now())
    )
    assert FailureRecorder(journal, clock)(RECORD, None)["marked_failed"] is True
    failed = journal.get_execution("e-1")
    assert failed.status is ExecutionStatus.FAILED and failed.error is not None
    assert failed.error.type == EXHAUSTED_TYPE
    assert failed.error.message == (
        "the runner failed 3 times (RetriesExhausted); last error: Runtime.ExitError: exit status 1"
    )
    assert FailureRecorder(journal, clock)(RECORD, None)["marked_failed"] is False


@pytest.mark.parametrize("event", [None, {}, {"requestPayload": {"id": "x"}}])
def test_a_record_without_an_execution_is_refused(event: object) -> None:
    with pytest.raises(ValueError, match="destination record"):
        FailedInvocation.parse(event)
