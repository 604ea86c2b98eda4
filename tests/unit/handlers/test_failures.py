"""The runner's on-failure destination: fails an exhausted execution nobody is running,
re-drives one whose invocations failed on transient AWS errors."""

from __future__ import annotations

from datetime import timedelta

import pytest

from handlers.failures import EXHAUSTED_TYPE, FailedInvocation, FailureRecorder
from sdk import ExecutionStatus, MemoryJournal, VirtualClock
from sdk.journal import ExecutionRecord
from tests.support import QueueInvoker

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
    assert FailureRecorder(journal, QueueInvoker(), clock)(RECORD, None)["marked_failed"] is True
    failed = journal.get_execution("e-1")
    assert failed.status is ExecutionStatus.FAILED and failed.error is not None
    assert failed.error.type == EXHAUSTED_TYPE
    assert failed.error.message == (
        "the runner failed 3 times (RetriesExhausted); last error: Runtime.ExitError: exit status 1"
    )
    assert FailureRecorder(journal, QueueInvoker(), clock)(RECORD, None)["marked_failed"] is False


def test_an_execution_a_live_invocation_holds_is_not_failed() -> None:
    journal, clock = MemoryJournal(), VirtualClock()
    journal.create_execution(
        ExecutionRecord("e-1", "wf", ExecutionStatus.PENDING, created_at=clock.now())
    )
    journal.acquire_lease("e-1", owner="live", now=clock.now(),
                          expires_at=clock.now() + timedelta(minutes=5))  # fmt: skip
    outcome = FailureRecorder(journal, QueueInvoker(), clock)(RECORD, None)
    assert outcome["marked_failed"] is False
    assert journal.get_execution("e-1").status is ExecutionStatus.RUNNING


@pytest.mark.parametrize(
    ("condition", "error_type", "message"),
    [
        ("EventAgeExceeded", "", ""),
        ("RetriesExhausted", "TransientInfrastructureError", "ClientError: throttled"),
        ("RetriesExhausted", "ClientError", "An error occurred (ThrottlingException) when"),
        ("RetriesExhausted", "ClientError", "An error occurred (TooManyRequestsException) when"),
    ],
)
def test_an_invocation_failed_by_throttling_or_age_is_redriven_not_failed(
    condition: str, error_type: str, message: str
) -> None:
    journal, clock, invoker = MemoryJournal(), VirtualClock(), QueueInvoker()
    journal.create_execution(
        ExecutionRecord("e-1", "wf", ExecutionStatus.PENDING, created_at=clock.now())
    )
    record = {**RECORD, "requestContext": {**RECORD["requestContext"], "condition": condition},
              "responsePayload": {"errorType": error_type, "errorMessage": message}}  # fmt: skip
    outcome = FailureRecorder(journal, invoker, clock)(record, None)
    assert (outcome["marked_failed"], outcome["redriven"]) == (False, True)
    assert invoker.started == ["e-1"]
    assert journal.get_execution("e-1").status is ExecutionStatus.PENDING


@pytest.mark.parametrize("event", [None, {}, {"requestPayload": {"id": "x"}}])
def test_a_record_without_an_execution_is_refused(event: object) -> None:
    with pytest.raises(ValueError, match="destination record"):
        FailedInvocation.parse(event)
