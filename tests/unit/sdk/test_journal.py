"""The journal contract, on the memory journal and on DynamoDB in moto."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from sdk import VirtualClock
from sdk.errors import (
    ExecutionConflictError,
    ExecutionNotFoundError,
    ExecutionNotRunnableError,
    LeaseLost,
)
from sdk.failures import ErrorInfo
from sdk.journal import ExecutionRecord, ExecutionStatus, Journal, StepRecord, StepStatus


def execution(clock: VirtualClock, execution_id: str = "e-1", **fields: Any) -> ExecutionRecord:
    values: dict[str, Any] = {
        "workflow_id": "wf",
        "status": ExecutionStatus.PENDING,
        "created_at": clock.now(),
        "input": '{"n":1}',
    }
    values.update(fields)
    return ExecutionRecord(execution_id=execution_id, **values)


def lease(journal: Journal, clock: VirtualClock, owner: str, seconds: int = 60) -> ExecutionRecord:
    now = clock.now()
    return journal.acquire_lease(
        "e-1", owner=owner, now=now, expires_at=now + timedelta(seconds=seconds)
    )


def test_an_execution_reads_back_as_written(journal: Journal, clock: VirtualClock) -> None:
    record = execution(clock, user_id="u", session_id="s", parent_execution_id="p")
    journal.create_execution(record)
    assert journal.get_execution("e-1") == record


def test_creating_the_same_execution_twice_is_idempotent(
    journal: Journal, clock: VirtualClock
) -> None:
    first = journal.create_execution(execution(clock))
    assert journal.create_execution(execution(clock)) == first


def test_an_id_taken_by_another_input_is_a_conflict(journal: Journal, clock: VirtualClock) -> None:
    journal.create_execution(execution(clock))
    with pytest.raises(ExecutionConflictError, match="'e-1' is already used by workflow 'wf'"):
        journal.create_execution(execution(clock, input='{"n":2}'))


def test_a_missing_execution_is_not_found(journal: Journal) -> None:
    with pytest.raises(ExecutionNotFoundError, match="no execution 'nope'"):
        journal.get_execution("nope")


def test_a_lease_is_exclusive_until_it_expires(journal: Journal, clock: VirtualClock) -> None:
    journal.create_execution(execution(clock))
    taken = lease(journal, clock, "a")
    assert (taken.status, taken.attempt, taken.lease_owner) == (ExecutionStatus.RUNNING, 1, "a")
    with pytest.raises(ExecutionNotRunnableError, match="being run by another invocation"):
        lease(journal, clock, "b")
    clock.advance(seconds=61)
    assert lease(journal, clock, "b").attempt == 2


def test_a_finished_execution_cannot_be_leased(journal: Journal, clock: VirtualClock) -> None:
    journal.create_execution(execution(clock))
    lease(journal, clock, "a")
    journal.finish_execution(
        "e-1", owner="a", status=ExecutionStatus.COMPLETED, now=clock.now(), output="1"
    )
    done = journal.get_execution("e-1")
    assert (done.status, done.output, done.lease_owner) == (ExecutionStatus.COMPLETED, "1", None)
    with pytest.raises(ExecutionNotRunnableError, match="already completed"):
        lease(journal, clock, "b")


def test_only_the_lease_owner_can_finish_or_suspend(journal: Journal, clock: VirtualClock) -> None:
    journal.create_execution(execution(clock))
    lease(journal, clock, "a")
    with pytest.raises(LeaseLost):
        journal.finish_execution("e-1", owner="b", status=ExecutionStatus.FAILED, now=clock.now())
    with pytest.raises(LeaseLost):
        journal.suspend_execution("e-1", owner="b")
    journal.suspend_execution("e-1", owner="a")
    assert journal.get_execution("e-1").status is ExecutionStatus.SUSPENDED
    assert lease(journal, clock, "c").lease_owner == "c"  # a suspended execution resumes


def test_a_failure_is_stored_with_type_message_and_traceback(
    journal: Journal, clock: VirtualClock
) -> None:
    journal.create_execution(execution(clock))
    lease(journal, clock, "a")
    error = ErrorInfo("builtins:KeyError", "'sku'", "Traceback ...")
    journal.finish_execution(
        "e-1", owner="a", status=ExecutionStatus.FAILED, now=clock.now(), error=error
    )
    assert journal.get_execution("e-1").error == error


def test_the_first_record_of_a_step_wins(journal: Journal, clock: VirtualClock) -> None:
    journal.create_execution(execution(clock))
    first = StepRecord("k", "run", "f", StepStatus.COMPLETED, output="1", started_at=clock.now())
    second = StepRecord("k", "run", "f", StepStatus.COMPLETED, output="2", started_at=clock.now())
    assert journal.record_step("e-1", first) == first
    assert journal.record_step("e-1", second) == first
    assert journal.load_steps("e-1") == {"k": first}


def test_step_keys_cannot_reach_the_execution_item(journal: Journal, clock: VirtualClock) -> None:
    journal.create_execution(execution(clock))
    sneaky = StepRecord("#execution", "run", "f", StepStatus.COMPLETED, output="null")
    journal.record_step("e-1", sneaky)
    assert journal.get_execution("e-1").workflow_id == "wf"
    assert journal.load_steps("e-1") == {"#execution": sneaky}


def test_loading_a_journal_past_one_megabyte_pages_through_it(
    journal: Journal, clock: VirtualClock
) -> None:
    journal.create_execution(execution(clock))
    big = '"' + "x" * 100_000 + '"'
    for i in range(15):  # about 1.5 MB: more than one page of a DynamoDB query
        journal.record_step(
            "e-1", StepRecord(f"s{i:02}", "run", "f", StepStatus.COMPLETED, output=big)
        )
    assert sorted(journal.load_steps("e-1")) == [f"s{i:02}" for i in range(15)]


def test_executions_are_listed_newest_first_by_workflow_and_status(
    journal: Journal, clock: VirtualClock
) -> None:
    for i, workflow_id in enumerate(["a", "b", "a"]):
        journal.create_execution(execution(clock, f"e-{i}", workflow_id=workflow_id))
        clock.advance(seconds=1)
    lease(journal, clock, "x")  # e-1 is now running
    assert [r.execution_id for r in journal.list_executions()] == ["e-2", "e-1", "e-0"]
    assert [r.execution_id for r in journal.list_executions(workflow_id="a")] == ["e-2", "e-0"]
    running = journal.list_executions(status=ExecutionStatus.RUNNING)
    assert [r.execution_id for r in running] == ["e-1"]
    pending_a = journal.list_executions(workflow_id="a", status=ExecutionStatus.PENDING, limit=1)
    assert [r.execution_id for r in pending_a] == ["e-2"]


def test_an_abandoned_execution_is_failed_once(journal: Journal, clock: VirtualClock) -> None:
    journal.create_execution(execution(clock))
    lease(journal, clock, "dead")
    error = ErrorInfo("stepline:InvocationsExhausted", "runtime exited with status 1")
    assert journal.fail_execution("e-1", error=error, now=clock.now()) is True
    failed = journal.get_execution("e-1")
    assert (failed.status, failed.error, failed.lease_owner) == (
        ExecutionStatus.FAILED,
        error,
        None,
    )
    assert journal.fail_execution("e-1", error=error, now=clock.now()) is False
