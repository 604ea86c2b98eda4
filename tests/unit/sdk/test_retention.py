"""Time to live: the retention policy, and the ``expires_at`` each journal write sets.

The journal tests run on the memory journal and on DynamoDB in moto; the items of a
partition are read raw from DynamoDB where only it has them (a long input or output).
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from sdk import VirtualClock
from sdk.failures import ErrorInfo
from sdk.journal import ExecutionRecord, ExecutionStatus, Journal, StepRecord, StepStatus
from sdk.journal.dynamodb import DynamoJournal
from sdk.journal.retention import DAY_SECONDS, Retention, describe_span, epoch_seconds
from sdk.journal.schema import EXPIRES_AT
from tests.faults import FaultInjector, FaultKind, skip_backoff
from tests.support import TABLE

R = 30 * DAY_SECONDS  # the defaults every journal of these tests has
L = 365 * DAY_SECONDS
LONG = '"' + "x" * 1000 + '"'  # past the 256 bytes an execution item holds itself


def at(moment: datetime) -> int:
    return epoch_seconds(moment)


def execution(clock: VirtualClock, execution_id: str = "e-1", **fields: Any) -> ExecutionRecord:
    values: dict[str, Any] = {
        "workflow_id": "wf",
        "status": ExecutionStatus.PENDING,
        "created_at": clock.now(),
        "input": '{"n":1}',
    }
    values.update(fields)
    return ExecutionRecord(execution_id=execution_id, **values)


def leased(journal: Journal, clock: VirtualClock, owner: str = "a") -> ExecutionRecord:
    journal.create_execution(execution(clock))
    now = clock.now()
    return journal.acquire_lease("e-1", owner=owner, now=now, expires_at=now + timedelta(minutes=1))


def step(key: str, output: str = "1") -> StepRecord:
    return StepRecord(key, "run", "f", StepStatus.COMPLETED, output=output)


# The policy


def test_what_a_running_execution_may_need_expires_lifetime_plus_retention_after_its_write() -> (
    None
):
    written = datetime(2030, 1, 1, 12, 0, 0, 900_000, tzinfo=UTC)
    assert Retention(100, 1000).open_expiry(written) == at(written) + 1100
    assert Retention().open_expiry(written) == at(written) + L + R


def test_a_finished_execution_expires_its_retention_after_it_finished() -> None:
    finished = datetime(2030, 6, 1, tzinfo=UTC)
    assert Retention(100, 1000).finished_expiry(finished) == at(finished) + 100


def test_the_lifetime_is_exceeded_only_after_it_ended() -> None:
    created = datetime(2030, 1, 1, tzinfo=UTC)
    policy = Retention(retention_seconds=60, lifetime_seconds=3600)
    end = created + timedelta(hours=1)
    assert policy.lifetime_end(created) == end
    assert not policy.exceeded(created, end)
    assert policy.exceeded(created, end + timedelta(microseconds=1))


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "30"])
def test_a_policy_with_a_span_that_is_not_a_positive_whole_number_is_refused(bad: Any) -> None:
    with pytest.raises(ValueError, match=r"Retention.lifetime_seconds must be a positive whole"):
        Retention(retention_seconds=60, lifetime_seconds=bad)


def test_spans_are_described_as_people_write_them() -> None:
    assert [describe_span(s) for s in (DAY_SECONDS, 365 * DAY_SECONDS, 1, 90)] == [
        "1 day", "365 days", "1 second", "90 seconds",
    ]  # fmt: skip


# Creating and recording


def test_a_created_execution_expires_lifetime_plus_retention_after_its_creation(
    journal: Journal, clock: VirtualClock
) -> None:
    created = journal.create_execution(execution(clock))
    assert created.expires_at == at(clock.now()) + L + R
    assert journal.get_execution("e-1").expires_at == created.expires_at
    clock.advance(days=3)  # creating it again writes nothing
    assert journal.create_execution(execution(clock)).expires_at == created.expires_at


def test_a_step_expires_lifetime_plus_retention_after_it_was_written(
    journal: Journal, clock: VirtualClock
) -> None:
    journal.create_execution(execution(clock))
    clock.advance(days=100)
    stored = journal.record_step("e-1", step("k"), now=clock.now())
    assert stored.expires_at == at(clock.now()) + L + R
    assert journal.load_steps("e-1")["k"].expires_at == stored.expires_at


def test_a_step_s_losing_writer_gets_the_winner_s_expiry(
    journal: Journal, clock: VirtualClock
) -> None:
    journal.create_execution(execution(clock))
    first = journal.record_step("e-1", step("k", "1"), now=clock.now())
    clock.advance(hours=1)
    second = journal.record_step("e-1", step("k", "2"), now=clock.now())
    assert (second.output, second.expires_at) == ("1", first.expires_at)
    assert journal.load_steps("e-1")["k"].expires_at == first.expires_at


# Finishing: every terminal write of the execution item


@pytest.mark.parametrize("status", [ExecutionStatus.COMPLETED, ExecutionStatus.FAILED,
                                    ExecutionStatus.CANCELLED])  # fmt: skip
def test_finishing_makes_the_execution_expire_its_retention_after(
    journal: Journal, clock: VirtualClock, status: ExecutionStatus
) -> None:
    leased(journal, clock)
    clock.advance(days=2)
    journal.finish_execution("e-1", owner="a", status=status, now=clock.now(), output="1")
    assert journal.get_execution("e-1").expires_at == at(clock.now()) + R


def test_failing_an_abandoned_execution_makes_it_expire_its_retention_after(
    journal: Journal, clock: VirtualClock
) -> None:
    leased(journal, clock)
    clock.advance(days=2)  # the lease ran out long ago
    failed = journal.fail_execution("e-1", error=ErrorInfo("x:Y", "gone"), now=clock.now())
    assert failed is not None and failed.expires_at == at(clock.now()) + R
    assert journal.get_execution("e-1").expires_at == at(clock.now()) + R


def test_cancelling_a_suspended_execution_makes_it_expire_its_retention_after(
    journal: Journal, clock: VirtualClock
) -> None:
    leased(journal, clock)
    journal.suspend_execution("e-1", owner="a", seen_wakeups=0, wake_need=1, due_at=None)
    clock.advance(days=2)
    assert journal.request_cancel("e-1", now=clock.now()).expires_at == at(clock.now()) + R
    assert journal.get_execution("e-1").expires_at == at(clock.now()) + R


def test_flagging_a_running_execution_for_cancellation_leaves_its_expiry(
    journal: Journal, clock: VirtualClock
) -> None:
    created = leased(journal, clock)
    clock.advance(days=2)
    flagged = journal.request_cancel("e-1", now=clock.now())
    assert flagged.status is ExecutionStatus.RUNNING
    assert journal.get_execution("e-1").expires_at == created.expires_at


def test_what_does_not_finish_an_execution_leaves_its_expiry_as_created(
    journal: Journal, clock: VirtualClock
) -> None:
    created = journal.create_execution(execution(clock))
    seen = []
    for owner in ("a", "b"):  # lease, suspend, wake, lease, park, resume: none finishes it
        clock.advance(days=1)
        now, until = clock.now(), clock.now() + timedelta(minutes=1)
        journal.acquire_lease("e-1", owner=owner, now=now, expires_at=until)
        wakeups = journal.get_execution("e-1").wakeups
        journal.suspend_execution("e-1", owner=owner, seen_wakeups=wakeups,
                                  wake_need=wakeups + 1, due_at=None)  # fmt: skip
        journal.wake("e-1")
        journal.acquire_lease("e-1", owner=owner, now=now, expires_at=until)
        journal.park_execution("e-1", owner=owner, error=ErrorInfo("x:Y", "parked"), now=now)
        journal.resume_execution("e-1", now=now)
        seen.append(journal.get_execution("e-1").expires_at)
    assert seen == [created.expires_at] * 2
    assert created.expires_at == at(created.created_at) + L + R


def test_a_finish_applied_twice_keeps_the_expiry_of_the_write_that_was_applied(
    journal: Journal, clock: VirtualClock
) -> None:
    """A finish whose response was lost is sent again; the retry finds its own write."""
    leased(journal, clock)
    finished = clock.now()
    journal.finish_execution("e-1", owner="a", status=ExecutionStatus.COMPLETED, now=finished)
    clock.advance(hours=1)
    journal.finish_execution("e-1", owner="a", status=ExecutionStatus.COMPLETED, now=clock.now())
    assert journal.get_execution("e-1").expires_at == at(finished) + R


# DynamoDB: every item of the partition, and a finish whose response was lost


def partition(client: Any, execution_id: str) -> dict[str, int | None]:
    items = client.query(
        TableName=TABLE,
        KeyConditionExpression="pk = :id",
        ExpressionAttributeValues={":id": {"S": execution_id}},
    )["Items"]
    return {
        item["sk"]["S"]: int(item[EXPIRES_AT]["N"]) if EXPIRES_AT in item else None
        for item in items
    }


def leased_with_input(journal: Journal, clock: VirtualClock, text: str) -> ExecutionRecord:
    journal.create_execution(execution(clock, input=text))
    now = clock.now()
    return journal.acquire_lease("e-1", owner="a", now=now, expires_at=now + timedelta(minutes=1))


def test_a_long_input_and_output_expire_lifetime_plus_retention_after_their_write(
    dynamodb_client: Any, clock: VirtualClock
) -> None:
    journal = DynamoJournal(dynamodb_client, TABLE)
    created = clock.now()
    leased_record = leased_with_input(journal, clock, LONG)
    assert leased_record.input_bytes is not None
    journal.record_step("e-1", step("k"), now=created)
    clock.advance(days=10)
    finished = clock.now()
    journal.finish_execution(
        "e-1", owner="a", status=ExecutionStatus.COMPLETED, now=finished, output=LONG
    )
    assert partition(dynamodb_client, "e-1") == {
        "#execution": at(finished) + R,
        "#input": at(created) + L + R,
        "#output": at(finished) + L + R,
        "step#k": at(created) + L + R,
    }


def test_a_finish_whose_response_was_lost_is_retried_and_leaves_the_finished_expiry(
    dynamodb_client: Any, clock: VirtualClock
) -> None:
    journal = DynamoJournal(dynamodb_client, TABLE)
    leased(journal, clock)
    clock.advance(days=1)
    injector = FaultInjector(random.Random(0), 1.0, [FaultKind.LOST_RESPONSE],
                             operations={"UpdateItem"}, faults_per_call=1)  # fmt: skip
    injector.attach(dynamodb_client)
    with skip_backoff():
        journal.finish_execution(
            "e-1", owner="a", status=ExecutionStatus.FAILED, now=clock.now(),
            error=ErrorInfo("x:Y", "boom"),
        )  # fmt: skip
    injector.detach(dynamodb_client)
    assert injector.by_kind() == {FaultKind.LOST_RESPONSE: 1}
    done = journal.get_execution("e-1")
    assert (done.status, done.closed_by) == (ExecutionStatus.FAILED, "a")
    assert done.expires_at == at(clock.now()) + R
