"""Durable waits on both journals, with the virtual clock."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import timedelta

import pytest

from sdk import ExecutionStatus, WorkflowContext, workflow
from sdk.journal import StepStatus
from tests.support import CALLS, Harness, effect

Build = Callable[..., Harness]


@workflow(id="cool-off")
async def cool_off(ctx: WorkflowContext, order_id: str) -> str:
    await ctx.step.run("charge", effect, "charge")
    await ctx.step.wait_for("cool-off", minutes=5)
    await ctx.step.run("ship", effect, "ship")
    return f"shipped {order_id}"


def test_a_five_minute_wait_completes_after_advancing_five_minutes(harness: Build) -> None:
    h = harness(cool_off)
    started = time.perf_counter()
    handle = h.client.invoke(cool_off, "o-1")
    assert handle.status() is ExecutionStatus.SUSPENDED
    assert [t.wake_at - h.clock.now() for t in h.timers.pending()] == [timedelta(minutes=5)]
    h.advance(minutes=4, seconds=59)
    assert handle.status() is ExecutionStatus.SUSPENDED
    h.advance(seconds=1)
    assert handle.result(timeout=1) == "shipped o-1"
    assert time.perf_counter() - started < 1.0
    assert h.invoker.invocations == 2  # one to the wait, one after it
    assert CALLS == {"charge": 1, "ship": 1}
    assert h.steps(handle.id)["cool-off"].status is StepStatus.WAITING


@pytest.mark.parametrize("always_replay", [False, True])
def test_steps_around_a_wait_run_exactly_once(harness: Build, always_replay: bool) -> None:
    h = harness(cool_off, always_replay=always_replay)
    handle = h.client.invoke(cool_off, "o-2")
    h.advance(minutes=5)
    assert handle.result(timeout=1) == "shipped o-2"
    assert CALLS == {"charge": 1, "ship": 1}


def test_an_early_wake_up_suspends_again_until_the_time(harness: Build) -> None:
    h = harness(cool_off)
    handle = h.client.invoke(cool_off, "o-3")
    h.invoker.invoke_async(handle.id)  # a stray resumption, a minute in
    assert handle.status() is ExecutionStatus.SUSPENDED
    assert CALLS == {"charge": 1}
    h.advance(minutes=5)
    assert handle.result(timeout=1) == "shipped o-3"


@workflow(id="branches")
async def branches(ctx: WorkflowContext) -> list[str]:
    async def short() -> str:
        await ctx.step.wait_for("short", minutes=1)
        return await ctx.step.run("after-short", effect, "after-short", "a")

    async def busy() -> str:
        first = await ctx.step.run("busy-1", effect, "busy-1", "b")
        second = await ctx.step.run("busy-2", effect, "busy-2", "c")
        await ctx.step.wait_for("long", minutes=2)
        return first + second

    return list(await asyncio.gather(short(), busy()))


def test_an_invocation_suspends_only_when_every_branch_is_waiting(harness: Build) -> None:
    h = harness(branches)
    handle = h.client.invoke(branches)
    # the busy branch ran both of its steps before the invocation suspended
    assert CALLS == {"busy-1": 1, "busy-2": 1}
    assert sorted(t.key for t in h.timers.pending()) == ["long", "short"]
    h.advance(minutes=1)
    assert CALLS["after-short"] == 1 and handle.status() is ExecutionStatus.SUSPENDED
    h.advance(minutes=1)
    assert handle.result(timeout=1) == ["a", "bc"]
    assert h.invoker.invocations == 3  # start, then once per wait
    assert set(CALLS.values()) == {1}


@workflow(id="until")
async def until(ctx: WorkflowContext, minutes: int) -> str:
    created = await ctx.step.now("created")
    await ctx.step.wait_until("deadline", created + timedelta(minutes=minutes))
    return "done"


def test_wait_until_resumes_at_the_given_time(harness: Build) -> None:
    h = harness(until)
    handle = h.client.invoke(until, 90)
    h.advance(minutes=89)
    assert handle.status() is ExecutionStatus.SUSPENDED
    h.advance(minutes=1)
    assert handle.result(timeout=1) == "done"


def test_a_time_in_the_past_does_not_wait(harness: Build) -> None:
    h = harness(until)
    assert h.client.invoke(until, 0).result(timeout=1) == "done"
    assert h.invoker.invocations == 1


@workflow(id="bad-wait")
async def bad_wait(ctx: WorkflowContext, how: str) -> None:
    if how == "negative":
        await ctx.step.wait_for("w", seconds=-1)
    else:
        await ctx.step.wait_until("w", ctx.created_at.replace(tzinfo=None))


@pytest.mark.parametrize(
    ("how", "message"),
    [("negative", "wait_for seconds must be a non-negative number"),
     ("naive", "wait_until needs a timezone-aware datetime")],
)  # fmt: skip
def test_bad_wait_arguments_fail_the_workflow_naming_them(
    harness: Build, how: str, message: str
) -> None:
    h = harness(bad_wait)
    with pytest.raises(ValueError, match=message):
        h.client.invoke(bad_wait, how).result(timeout=1)
