"""Cancellation on both journals: waiting, running and parent executions."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from sdk import ExecutionNotFoundError, ExecutionStatus, WorkflowContext, workflow
from sdk.errors import ExecutionCancelledError
from tests.support import CALLS, Harness, QueueInvoker, effect

Build = Callable[..., Harness]
HARNESS: dict[str, Harness] = {}


@workflow(id="hour-wait")
async def hour_wait(ctx: WorkflowContext) -> str:
    await ctx.step.run("before", effect, "before")
    await ctx.step.wait_for("hour", hours=1)
    await ctx.step.run("after", effect, "after")
    return "done"


def test_a_waiting_execution_is_cancelled_at_once_and_never_resumes(harness: Build) -> None:
    h = harness(hour_wait)
    handle = h.client.invoke(hour_wait)
    assert handle.status() is ExecutionStatus.SUSPENDED
    assert handle.cancel().status is ExecutionStatus.CANCELLED
    h.advance(hours=2)
    assert handle.status() is ExecutionStatus.CANCELLED
    assert CALLS == {"before": 1}
    assert h.invoker.invocations == 2  # the start, and the timer's visit that found it cancelled
    with pytest.raises(ExecutionCancelledError, match="was cancelled"):
        handle.result(timeout=1)


@workflow(id="waiting-child")
async def waiting_child(ctx: WorkflowContext) -> str:
    await ctx.step.wait_for("hour", hours=1)
    return "child done"


@workflow(id="waiting-parent")
async def waiting_parent(ctx: WorkflowContext) -> str:
    return await ctx.step.invoke_and_wait("child", waiting_child)


def test_cancelling_a_parent_cancels_its_children(harness: Build) -> None:
    h = harness(waiting_parent, waiting_child)
    handle = h.client.invoke(waiting_parent)
    [child] = h.journal.list_children(handle.id)
    assert child.status is ExecutionStatus.SUSPENDED
    h.client.cancel(handle.id)
    assert h.client.get_execution(child.execution_id).status is ExecutionStatus.CANCELLED
    assert handle.status() is ExecutionStatus.CANCELLED
    h.advance(hours=2)
    assert h.client.get_execution(child.execution_id).status is ExecutionStatus.CANCELLED


def cancel_myself(execution_id: str) -> str:
    h = HARNESS["h"]
    h.client.cancel(execution_id)
    h.clock.advance(seconds=1)  # the engine looks for requests at most once a second
    return "asked"


@workflow(id="self-cancelling")
async def self_cancelling(ctx: WorkflowContext) -> str:
    await ctx.step.run("first", effect, "first")
    await ctx.step.run("cancel", cancel_myself, ctx.execution_id)
    await ctx.step.run("never", effect, "never")
    return "finished"


def test_a_running_execution_stops_at_its_next_step_boundary(harness: Build) -> None:
    HARNESS["h"] = h = harness(self_cancelling)
    handle = h.client.invoke(self_cancelling)
    record = h.client.get_execution(handle.id)
    assert (record.status, record.cancel_requested) == (ExecutionStatus.CANCELLED, True)
    assert CALLS == {"first": 1}
    assert "never" not in h.steps(handle.id)


def test_a_flagged_execution_stops_before_its_first_step(harness: Build) -> None:
    h = harness(hour_wait)
    h.client.invoker = QueueInvoker()  # start it, but let a "dead" invocation hold it
    handle = h.client.invoke(hour_wait)
    now = h.clock.now()
    h.journal.acquire_lease(handle.id, owner="dead", now=now, expires_at=now + timedelta(seconds=1))
    assert h.client.cancel(handle.id).cancel_requested  # running: only flagged
    h.clock.advance(seconds=2)
    h.invoker.invoke_async(handle.id)
    assert handle.status() is ExecutionStatus.CANCELLED
    assert CALLS == {}


def test_cancelling_a_finished_execution_changes_nothing(harness: Build) -> None:
    h = harness(hour_wait)
    handle = h.client.invoke(hour_wait)
    h.advance(hours=1)
    assert handle.result(timeout=1) == "done"
    assert handle.cancel().status is ExecutionStatus.COMPLETED


def test_cancelling_an_unknown_execution_is_an_error(harness: Build) -> None:
    h = harness(hour_wait)
    with pytest.raises(ExecutionNotFoundError, match="no execution 'nope'"):
        h.client.cancel("nope")


def test_cancelling_a_parent_stops_its_running_child(harness: Build) -> None:
    h = harness(waiting_parent, waiting_child)
    h.engine.invoker = starts_nothing = QueueInvoker()  # the child is started, not yet run
    handle = h.client.invoke(waiting_parent, execution_id="p")
    [child] = h.journal.list_children("p")
    now = h.clock.now()
    h.journal.acquire_lease(child.execution_id, owner="busy", now=now, expires_at=now)
    h.client.cancel("p")  # the child is running: it is flagged
    assert h.client.get_execution(child.execution_id).cancel_requested
    h.clock.advance(seconds=1)
    h.engine.invoker = h.invoker
    h.invoker.invoke_async(child.execution_id)  # its next invocation stops at once
    assert h.client.get_execution(child.execution_id).status is ExecutionStatus.CANCELLED
    assert handle.status() is ExecutionStatus.CANCELLED
    assert starts_nothing.started == [child.execution_id]
