"""Finished executions expire by DynamoDB time to live; no execution outlives its lifetime.

With the defaults (retention R = 30 days, lifetime L = 365 days), every item of a finished
execution's partition, read raw from DynamoDB in moto, carries ``expires_at``: the
execution item R after it finished, every other item L + R after it was written, whatever
ended it (completed, failed, cancelled at once or at a step boundary, failed by the
failure destination or after its invocations died). The virtual clock only moves when told,
so every write of a phase happens at one known moment. An execution resumed past its
lifetime fails with ``stepline:LifetimeExceeded``, and one nothing would resume is resumed
by the sweeper when its lifetime ends.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

import pytest

from handlers.failures import FailureRecorder
from sdk import Client, ExecutionStatus, WorkflowFailedError
from sdk.engine import DIED_TYPE, LIFETIME_TYPE, Invocation
from sdk.ids import derived_id
from sdk.journal import ExecutionRecord, StepStatus
from sdk.journal.records import SUSPENSION_PREFIX, iso
from sdk.journal.retention import DAY_SECONDS, epoch_seconds
from sdk.journal.schema import EXPIRES_AT
from sdk.replay import SLOT
from tests.apps.retention import (
    TEST,
    broken,
    echo,
    idle,
    kept,
    patient,
    self_cancelling,
    waits_on_idle,
)
from tests.support import Harness, QueueInvoker

APP = "tests.apps.retention"
pytestmark = pytest.mark.stepline(app=APP)
R = 30 * DAY_SECONDS
L = 365 * DAY_SECONDS
TEXT = "x" * 300  # its JSON is past the 256 bytes an execution item holds itself
STARTED = f"step#child{SLOT}started"
# the records keeping the suspensions by lease attempts 1 and 2, once resumed
SUSPENSION_1 = f"step#{SUSPENSION_PREFIX}1"
SUSPENSION_2 = f"step#{SUSPENSION_PREFIX}2"

Build = Callable[..., Harness]


def expiries(stepline: Any, execution_id: str) -> dict[str, int | None]:
    """Every item of the execution's partition: its sort key -> ``expires_at``."""
    items = stepline.aws_client("dynamodb").query(
        TableName="stepline-test",
        KeyConditionExpression="pk = :id",
        ExpressionAttributeValues={":id": {"S": execution_id}},
    )["Items"]
    return {i["sk"]["S"]: int(i[EXPIRES_AT]["N"]) if EXPIRES_AT in i else None for i in items}


def kept_for(moment: datetime) -> int:
    """What an item written at ``moment`` that the execution may still need expires at."""
    return epoch_seconds(moment) + L + R


def finished(moment: datetime) -> int:
    """What the item of an execution finished at ``moment`` expires at."""
    return epoch_seconds(moment) + R


def test_every_item_of_a_completed_execution_and_its_child_expires(stepline: Any) -> None:
    t0 = stepline.clock.now()
    handle = stepline.invoke(kept, TEXT)
    stepline.advance(hours=1)
    t1 = stepline.clock.now()
    assert handle.result(timeout=5) == TEXT.upper() + TEXT
    assert expiries(stepline, handle.id) == {
        "#execution": finished(t1),
        "#input": kept_for(t0),
        "#output": kept_for(t1),
        "step#shout": kept_for(t0),
        "step#pause": kept_for(t0),
        SUSPENSION_1: kept_for(t1),  # the pause: suspended at t0, resumed at t1
        STARTED: kept_for(t1),  # the engine's record that it started the child
        "step#child": kept_for(t1),  # the child's outcome, delivered
    }
    assert expiries(stepline, derived_id(handle.id, "child")) == {
        "#execution": finished(t1),
        "#input": kept_for(t1),
        "#output": kept_for(t1),
        "step#echo": kept_for(t1),
    }


def test_every_item_of_a_failed_execution_expires(stepline: Any) -> None:
    t0 = stepline.clock.now()
    handle = stepline.invoke(broken, 7)
    stepline.advance(hours=1)
    with pytest.raises(ValueError, match="broken on purpose"):
        handle.result(timeout=5)
    assert expiries(stepline, handle.id) == {
        "#execution": finished(stepline.clock.now()),
        "step#first": kept_for(t0),
        "step#pause": kept_for(t0),
        SUSPENSION_1: kept_for(stepline.clock.now()),
    }


def test_every_item_of_an_execution_cancelled_while_it_waits_expires(stepline: Any) -> None:
    t0 = stepline.clock.now()
    handle = stepline.invoke(idle)
    stepline.advance(hours=1)
    assert handle.cancel().status is ExecutionStatus.CANCELLED
    assert expiries(stepline, handle.id) == {
        "#execution": finished(stepline.clock.now()),
        "step#first": kept_for(t0),
        "step#nap": kept_for(t0),
    }


def test_every_item_of_an_execution_cancelled_at_a_step_boundary_expires(stepline: Any) -> None:
    TEST.update(client=stepline.client, clock=stepline.clock)
    t0 = stepline.clock.now()
    handle = stepline.invoke(self_cancelling)
    t1 = t0 + timedelta(seconds=1)  # the step that asked moved the clock on
    assert handle.status() is ExecutionStatus.CANCELLED
    assert expiries(stepline, handle.id) == {
        "#execution": finished(t1),
        "step#first": kept_for(t0),
        "step#cancel": kept_for(t1),
    }


def test_a_cancelled_parent_and_child_expire_with_the_child_s_report(stepline: Any) -> None:
    t0 = stepline.clock.now()
    handle = stepline.invoke(patient)
    stepline.advance(days=1)
    t1 = stepline.clock.now()
    stepline.advance(hours=1)
    t2 = stepline.clock.now()
    stepline.client.cancel(handle.id)  # the child is cancelled with it, and reports
    child = derived_id(handle.id, "child")
    assert stepline.client.get_execution(child).status is ExecutionStatus.CANCELLED
    assert expiries(stepline, handle.id) == {
        "#execution": finished(t2),
        "step#day": kept_for(t0),
        SUSPENSION_1: kept_for(t1),
        STARTED: kept_for(t1),
        "step#child": kept_for(t2),
    }
    assert expiries(stepline, child) == {
        "#execution": finished(t2),
        "step#first": kept_for(t1),
        "step#nap": kept_for(t1),
    }


def test_a_child_failed_by_the_failure_destination_expires_with_its_report(
    stepline: Any,
) -> None:
    stepline.engine.invoker = QueueInvoker()  # the child's invocations never run...
    t0 = stepline.clock.now()
    handle = stepline.invoke(waits_on_idle)
    child = derived_id(handle.id, "child")
    stepline.clock.advance(hours=1)
    t1 = stepline.clock.now()
    record = {  # ...and Lambda gives up on them
        "requestContext": {"condition": "RetriesExhausted", "approximateInvokeCount": 3},
        "requestPayload": {"execution_id": child},
        "responsePayload": {"errorType": "Runtime.ExitError", "errorMessage": "exit status 1"},
    }
    recorder = FailureRecorder(stepline.journal, stepline.invoker, stepline.clock)
    assert recorder(record, None)["marked_failed"]
    assert handle.result(timeout=5) == "InvocationsExhausted"
    assert expiries(stepline, child) == {"#execution": finished(t1)}
    assert expiries(stepline, handle.id) == {
        "#execution": finished(t1),
        STARTED: kept_for(t0),
        SUSPENSION_1: kept_for(t1),  # on its child, resumed by the child's report
        "step#child": kept_for(t1),
    }


def test_an_execution_failed_after_its_invocations_died_expires(stepline: Any) -> None:
    client = Client(stepline.app, stepline.journal, QueueInvoker(), clock=stepline.clock)
    handle = client.invoke(idle)
    for _ in range(3):  # each invocation takes the lease and dies without a word
        deadline = stepline.clock.now() + timedelta(minutes=1)
        assert isinstance(stepline.engine.start(handle.id, deadline=deadline), Invocation)
        stepline.clock.advance(minutes=2)
    stepline.advance(minutes=1)  # the sweeper re-drives it; that invocation fails it
    failed = stepline.client.get_execution(handle.id)
    assert failed.error is not None and failed.error.type == DIED_TYPE
    assert expiries(stepline, handle.id) == {"#execution": finished(stepline.clock.now())}


# The lifetime


def lifetime_message(record: ExecutionRecord, resumed: datetime) -> str:
    created = record.created_at
    return (
        f"execution {record.execution_id!r} was created at {iso(created)} and may run for at "
        "most 365 days (the stack's maximum lifetime, STEPLINE_MAX_LIFETIME_DAYS): it was "
        f"resumed at {iso(resumed)}, after its lifetime ended at "
        f"{iso(created + timedelta(days=365))}"
    )


def test_an_execution_resumed_after_its_lifetime_fails_with_lifetime_exceeded(
    stepline: Any,
) -> None:
    t0 = stepline.clock.now()
    handle = stepline.invoke(idle)  # its 400-day wait outlasts its 365-day lifetime
    stepline.advance(days=366)  # nothing is due but the sweeper's look at its lifetime
    t1 = stepline.clock.now()
    record = stepline.client.get_execution(handle.id)
    assert record.status is ExecutionStatus.FAILED and record.error is not None
    assert record.error.type == LIFETIME_TYPE
    assert record.error.message == lifetime_message(record, t1)
    with pytest.raises(WorkflowFailedError, match="LifetimeExceeded: execution .* was created"):
        handle.result(timeout=1)
    assert [s.key for s in stepline.steps(handle.id)] == ["first", "nap"]  # nothing ran on
    stepline.advance(days=40)  # its timer fires at last: it finds the execution failed
    assert stepline.client.get_execution(handle.id).version == record.version
    assert expiries(stepline, handle.id) == {
        "#execution": finished(t1),
        "step#first": kept_for(t0),
        "step#nap": kept_for(t0),
        SUSPENSION_1: kept_for(t1),  # resumed, to fail
    }


def test_a_parent_waiting_on_a_child_past_its_lifetime_fails_and_gets_the_report(
    stepline: Any,
) -> None:
    """The parent was created first, so its lifetime ends first: the sweeper resumes it
    then, though nothing else would, and it fails. The child fails at the end of its own
    lifetime and its outcome reaches the parent's journal by the one delivery path."""
    t0 = stepline.clock.now()
    handle = stepline.invoke(patient)
    stepline.advance(days=1)
    t1 = stepline.clock.now()  # the child starts, and waits 400 days
    child = derived_id(handle.id, "child")
    stepline.advance(days=365)
    t2 = stepline.clock.now()
    parent_record = stepline.client.get_execution(handle.id)
    assert parent_record.error is not None and parent_record.error.type == LIFETIME_TYPE
    assert stepline.client.get_execution(child).status is ExecutionStatus.SUSPENDED
    stepline.advance(minutes=2)  # the child's lifetime ends a day after its parent's
    t3 = stepline.clock.now()
    child_record = stepline.client.get_execution(child)
    assert child_record.error is not None
    assert child_record.error.message == lifetime_message(child_record, t3)
    report = stepline.journal.load_steps(handle.id)["child"]
    assert report.status is StepStatus.FAILED and report.error is not None
    assert (report.error.type, report.output) == (LIFETIME_TYPE, f'"{child}"')
    assert stepline.journal.list_due(t3 + timedelta(days=1000)) == []  # nothing left to do
    assert expiries(stepline, handle.id) == {
        "#execution": finished(t2),
        "step#day": kept_for(t0),
        SUSPENSION_1: kept_for(t1),
        STARTED: kept_for(t1),
        SUSPENSION_2: kept_for(t2),  # on its child, resumed by the sweeper, to fail
        "step#child": kept_for(t3),
    }
    assert expiries(stepline, child) == {
        "#execution": finished(t3),
        "step#first": kept_for(t1),
        "step#nap": kept_for(t1),
        SUSPENSION_1: kept_for(t3),
    }


def test_racing_invocations_past_the_lifetime_fail_the_execution_once(
    stepline: Any, moto_race_window: None
) -> None:
    handle = Client(stepline.app, stepline.journal, QueueInvoker(), clock=stepline.clock).invoke(
        idle
    )
    stepline.clock.advance(days=366)
    start = threading.Barrier(8)

    def one(_: int) -> str:
        start.wait(timeout=10)
        return asyncio.run(stepline.engine.run(handle.id)).status

    with ThreadPoolExecutor(8) as pool:
        statuses = sorted(pool.map(one, range(8)))
    assert statuses == ["failed"] + ["skipped"] * 7
    record = stepline.client.get_execution(handle.id)
    assert record.error is not None and record.error.type == LIFETIME_TYPE
    assert expiries(stepline, handle.id) == {"#execution": finished(stepline.clock.now())}


# Both journals, and replay


@pytest.mark.parametrize("always_replay", [False, True])
def test_both_journals_set_the_same_expiries_however_often_the_workflow_replays(
    harness: Build, always_replay: bool
) -> None:
    h = harness(kept, echo, always_replay=always_replay)
    t0 = h.clock.now()
    handle = h.client.invoke(kept, TEXT)
    h.advance(hours=1)
    t1 = h.clock.now()
    assert handle.result(timeout=5) == TEXT.upper() + TEXT
    steps = {key: step.expires_at for key, step in h.journal.load_steps(handle.id).items()}
    suspensions = [key for key in steps if key.startswith(SUSPENSION_PREFIX)]
    assert len(suspensions) == 1  # the pause (hand-overs to fresh invocations are not kept)
    assert steps.pop(suspensions[0]) == kept_for(t1)
    assert steps == {
        "shout": kept_for(t0),
        "pause": kept_for(t0),
        f"child{SLOT}started": kept_for(t1),
        "child": kept_for(t1),
    }
    assert h.journal.get_execution(handle.id).expires_at == finished(t1)


def test_an_execution_resumed_as_its_lifetime_ends_runs_on(harness: Build) -> None:
    h = harness(broken)
    handle = h.client.invoke(broken, 1)
    h.clock.advance(days=365)  # to the last moment of its lifetime, firing nothing
    h.invoker.invoke_async(handle.id)  # its timer, late
    with pytest.raises(ValueError, match="broken on purpose"):  # its own error
        handle.result(timeout=5)


def test_a_parked_execution_resumed_after_its_lifetime_fails(harness: Build) -> None:
    h = harness(idle)
    now = h.clock.now()
    parked = h.journal.create_execution(ExecutionRecord(
        execution_id="gone", workflow_id="retired", status=ExecutionStatus.PENDING,
        created_at=now, input="null",
    ))  # fmt: skip
    h.invoker.invoke_async(parked.execution_id)  # this deployment lacks the workflow
    assert h.client.get_execution("gone").status is ExecutionStatus.PARKED
    h.advance(days=366)
    assert h.client.get_execution("gone").status is ExecutionStatus.PARKED
    h.client.resume("gone")  # after a fix: too late
    record = h.client.get_execution("gone")
    assert record.error is not None and record.error.type == LIFETIME_TYPE
