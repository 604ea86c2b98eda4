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
    LeaseBusyError,
    LeaseLost,
    SerializationError,
    WokenUp,
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


def suspend(journal: Journal, owner: str, *, seen: int = 0, need: int = 1) -> None:
    journal.suspend_execution(
        "e-1", owner=owner, seen_wakeups=seen, wake_need=seen + need, due_at=None
    )


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
        suspend(journal, "b")
    suspend(journal, "a")
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
    assert journal.record_step("e-1", first, now=clock.now()) == first
    assert journal.record_step("e-1", second, now=clock.now()) == first
    assert journal.load_steps("e-1") == {"k": first}


def test_step_keys_cannot_reach_the_execution_item(journal: Journal, clock: VirtualClock) -> None:
    journal.create_execution(execution(clock))
    sneaky = StepRecord("#execution", "run", "f", StepStatus.COMPLETED, output="null")
    journal.record_step("e-1", sneaky, now=clock.now())
    assert journal.get_execution("e-1").workflow_id == "wf"
    assert journal.load_steps("e-1") == {"#execution": sneaky}


def test_loading_a_journal_past_one_megabyte_pages_through_it(
    journal: Journal, clock: VirtualClock
) -> None:
    journal.create_execution(execution(clock))
    big = '"' + "x" * 100_000 + '"'
    for i in range(15):  # about 1.5 MB: more than one page of a DynamoDB query
        journal.record_step(
            "e-1",
            StepRecord(f"s{i:02}", "run", "f", StepStatus.COMPLETED, output=big),
            now=clock.now(),
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
    lease(journal, clock, "dead", seconds=60)
    clock.advance(seconds=61)  # its lease expired: nobody is running it
    error = ErrorInfo("stepline:InvocationsExhausted", "runtime exited with status 1")
    failed = journal.fail_execution("e-1", error=error, now=clock.now())
    assert failed is not None
    assert (failed.status, failed.error, failed.lease_owner) == (
        ExecutionStatus.FAILED,
        error,
        None,
    )
    assert journal.get_execution("e-1") == failed
    assert failed.due_at == clock.now()  # until its outcome is delivered
    assert journal.fail_execution("e-1", error=error, now=clock.now()) is None


def test_an_execution_with_a_live_lease_is_not_failed(
    journal: Journal, clock: VirtualClock
) -> None:
    journal.create_execution(execution(clock))
    lease(journal, clock, "alive", seconds=60)
    error = ErrorInfo("stepline:InvocationsExhausted", "an earlier invocation failed")
    assert journal.fail_execution("e-1", error=error, now=clock.now()) is None
    assert journal.get_execution("e-1").status is ExecutionStatus.RUNNING


def test_a_lease_taken_again_by_its_owner_is_granted(journal: Journal, clock: VirtualClock) -> None:
    """A retried request whose first attempt was applied is not refused."""
    journal.create_execution(execution(clock))
    lease(journal, clock, "a")
    assert lease(journal, clock, "a").lease_owner == "a"


def test_taking_over_an_expired_lease_names_the_dead_holder(
    journal: Journal, clock: VirtualClock
) -> None:
    journal.create_execution(execution(clock))
    assert lease(journal, clock, "a", seconds=10).previous_owner is None
    with pytest.raises(LeaseBusyError):
        lease(journal, clock, "b")
    clock.advance(seconds=11)
    taken = lease(journal, clock, "b")
    assert (taken.lease_owner, taken.previous_owner) == ("b", "a")
    journal.note_dead_invocations("e-1", owner="b", count=1)
    assert journal.get_execution("e-1").dead_invocations == 1
    with pytest.raises(LeaseLost):
        journal.note_dead_invocations("e-1", owner="a", count=2)


def test_a_wake_up_since_loading_refuses_the_suspension(
    journal: Journal, clock: VirtualClock
) -> None:
    journal.create_execution(execution(clock))
    seen = lease(journal, clock, "a").wakeups
    assert journal.wake("e-1").wakeups == seen + 1
    with pytest.raises(WokenUp) as woken:
        suspend(journal, "a", seen=seen)
    assert woken.value.wakeups == seen + 1
    assert journal.get_execution("e-1").lease_owner == "a"  # still ours: replay, then suspend
    suspend(journal, "a", seen=seen + 1)
    assert journal.get_execution("e-1").status is ExecutionStatus.SUSPENDED


def test_a_suspended_execution_needs_as_many_wake_ups_as_it_asked_for(
    journal: Journal, clock: VirtualClock
) -> None:
    journal.create_execution(execution(clock))
    lease(journal, clock, "a")
    suspend(journal, "a", seen=0, need=2)
    assert journal.wake("e-1").needs_invocation is False
    assert journal.wake("e-1").needs_invocation is True


def test_suspend_and_finish_applied_twice_by_their_owner_succeed(
    journal: Journal, clock: VirtualClock
) -> None:
    """What botocore does when the first attempt was applied but its response lost."""
    journal.create_execution(execution(clock))
    lease(journal, clock, "a")
    suspend(journal, "a")
    suspend(journal, "a")
    lease(journal, clock, "b")
    for _ in range(2):
        journal.finish_execution("e-1", owner="b", status=ExecutionStatus.COMPLETED,
                                 now=clock.now(), output="1")  # fmt: skip
    assert journal.get_execution("e-1").status is ExecutionStatus.COMPLETED
    with pytest.raises(LeaseLost):
        journal.finish_execution("e-1", owner="c", status=ExecutionStatus.FAILED, now=clock.now())


def test_waking_a_missing_execution_is_not_found(journal: Journal) -> None:
    with pytest.raises(ExecutionNotFoundError):
        journal.wake("nope")


def test_the_sweeper_list_holds_what_is_due_oldest_first(
    journal: Journal, clock: VirtualClock
) -> None:
    start = clock.now()
    for i, minutes in enumerate([5, 1, 3]):
        journal.create_execution(
            execution(clock, f"e-{i}", due_at=start + timedelta(minutes=minutes))
        )
    journal.create_execution(execution(clock, "never"))
    clock.advance(minutes=4)
    assert [r.execution_id for r in journal.list_due(clock.now())] == ["e-1", "e-2"]
    moved = start + timedelta(minutes=10)
    assert journal.set_due("e-1", due_at=moved, expected=start) is False  # not what it is
    assert journal.set_due("e-1", due_at=moved, expected=start + timedelta(minutes=1)) is True
    assert journal.set_due("e-2", due_at=None, expected=start + timedelta(minutes=3)) is True
    assert journal.list_due(clock.now()) == []
    assert journal.get_execution("e-1").due_at == moved


# --------------------------------------------------------------------------------------
# Sizes: every write measured as DynamoDB measures it
# --------------------------------------------------------------------------------------

LONG_INPUT = '"' + "i" * 300_000 + '"'


def test_a_401kb_step_item_is_refused_like_dynamodb_and_nothing_is_written(
    journal: Journal, clock: VirtualClock
) -> None:
    journal.create_execution(execution(clock))
    step = StepRecord("k", "run", "f", StepStatus.COMPLETED, output="x" * (401 * 1024))
    with pytest.raises(SerializationError, match=r"step 'k' of execution 'e-1' would be a "
                       r"DynamoDB item of 41\d{4} bytes, over the 409600-byte item limit"):
        journal.record_step("e-1", step, now=clock.now())
    assert journal.load_steps("e-1") == {}


def test_a_long_input_reads_back_whole(journal: Journal, clock: VirtualClock) -> None:
    journal.create_execution(execution(clock, input=LONG_INPUT))
    assert journal.load_values(journal.get_execution("e-1")).input == LONG_INPUT


def test_a_long_input_is_created_once_and_conflicts_with_another(
    journal: Journal, clock: VirtualClock
) -> None:
    journal.create_execution(execution(clock, input=LONG_INPUT))
    assert journal.create_execution(execution(clock, input=LONG_INPUT)).input == LONG_INPUT
    with pytest.raises(ExecutionConflictError, match="with a different input"):
        journal.create_execution(execution(clock, input=LONG_INPUT[:-2] + 'j"'))


def test_a_long_output_reads_back_whole(journal: Journal, clock: VirtualClock) -> None:
    journal.create_execution(execution(clock))
    lease(journal, clock, "a")
    output = '"' + "o" * 300_000 + '"'
    journal.finish_execution(
        "e-1", owner="a", status=ExecutionStatus.COMPLETED, now=clock.now(), output=output
    )
    journal.finish_execution(  # a retried request whose first attempt was applied
        "e-1", owner="a", status=ExecutionStatus.COMPLETED, now=clock.now(), output=output
    )
    assert journal.load_values(journal.get_execution("e-1")).output == output


def test_the_execution_item_stays_small_beside_a_long_input_and_output(
    dynamodb_client: Any, clock: VirtualClock
) -> None:
    from sdk.journal.dynamodb import DynamoJournal
    from sdk.sizes import item_size

    journal = DynamoJournal(dynamodb_client, "stepline-test")
    journal.create_execution(execution(clock, input=LONG_INPUT))
    lease(journal, clock, "a")
    journal.finish_execution(
        "e-1", owner="a", status=ExecutionStatus.COMPLETED, now=clock.now(), output=LONG_INPUT
    )
    key = {"pk": {"S": "e-1"}, "sk": {"S": "#execution"}}
    item = dynamodb_client.get_item(TableName="stepline-test", Key=key)["Item"]
    assert item_size(item) < 1024  # a lease or status update: 1 write unit
    assert item["input_bytes"] == {"N": str(len(LONG_INPUT))}
    record = journal.get_execution("e-1")
    assert (record.input, record.output, record.loaded) == (None, None, False)


def test_a_huge_error_is_truncated_with_a_visible_marker() -> None:
    error = ErrorInfo.from_exception(ValueError("e" * 500_000))
    head, marker = error.message.split("...")
    assert marker == f"[stepline: {500_000 - len(head)} more bytes truncated]"
    assert len(error.message.encode()) <= 16 * 1024


def test_a_listing_continues_after_a_cursor_even_among_equal_times(
    journal: Journal, clock: VirtualClock
) -> None:
    for n in range(5):  # all created at the same instant
        journal.create_execution(execution(clock, f"e-{n}"))
    first = journal.list_executions(limit=2)
    after = (first[-1].created_at, first[-1].execution_id)
    rest = journal.list_executions(limit=10, before=after)
    assert [r.execution_id for r in first + rest] == ["e-4", "e-3", "e-2", "e-1", "e-0"]
