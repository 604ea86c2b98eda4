"""Suspension is decided by the engine: ordinary asyncio patterns keep their meaning around
waits (DESIGN section 3, "Suspension"). Each pattern runs on both journals, normally and in
the always-replay mode (suspend and replay after every new step), and counts side effects.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from sdk import ExecutionStatus, WorkflowContext, workflow
from tests.support import CALLS, Harness, effect

Build = Callable[..., Harness]
MODES = pytest.mark.parametrize("always_replay", [False, True], ids=["normal", "always-replay"])


@workflow(id="task-group-wait")
async def task_group_wait(ctx: WorkflowContext) -> list[str]:
    async with asyncio.TaskGroup() as group:
        nap = group.create_task(ctx.step.wait_for("nap", minutes=5))
        work = group.create_task(ctx.step.run("work", effect, "work", "done"))
    assert nap.result() is None
    return [work.result(), await ctx.step.run("after", effect, "after", "after")]


@MODES
def test_a_task_group_around_a_wait_waits(harness: Build, always_replay: bool) -> None:
    h = harness(task_group_wait, always_replay=always_replay)
    handle = h.client.invoke(task_group_wait)
    assert h.client.get_execution(handle.id).status is ExecutionStatus.SUSPENDED
    assert "after" not in CALLS
    h.advance(minutes=5)
    assert handle.result(timeout=5) == ["done", "after"]
    assert CALLS == {"work": 1, "after": 1}


@contextlib.asynccontextmanager
async def _session(ctx: WorkflowContext) -> AsyncIterator[None]:
    await ctx.step.run("open", effect, "open")
    try:
        yield
    finally:
        await ctx.step.run("close", effect, "close")


@workflow(id="async-with-wait")
async def async_with_wait(ctx: WorkflowContext) -> str:
    async with _session(ctx):
        await ctx.step.wait_for("nap", minutes=5)
        await ctx.step.run("inside", effect, "inside")
    return "closed"


@MODES
def test_an_async_with_exit_runs_when_the_workflow_gets_there(
    harness: Build, always_replay: bool
) -> None:
    h = harness(async_with_wait, always_replay=always_replay)
    handle = h.client.invoke(async_with_wait)
    assert h.client.get_execution(handle.id).status is ExecutionStatus.SUSPENDED
    assert CALLS == {"open": 1}  # not closed at the suspension
    h.advance(minutes=5)
    assert handle.result(timeout=5) == "closed"
    assert CALLS == {"open": 1, "inside": 1, "close": 1}
    steps = sorted(h.steps(handle.id).values(), key=lambda s: s.position)
    assert [s.key for s in steps if not s.bookkeeping] == ["open", "nap", "inside", "close"]


@workflow(id="busy-beside-a-long-wait")
async def busy_beside_a_long_wait(ctx: WorkflowContext) -> list[Any]:
    async def busy() -> int:
        for _ in range(50):  # plenty of non-step awaits before its steps
            await asyncio.sleep(0)
        await asyncio.sleep(0.01)
        return int(await ctx.step.run("busy", effect, "busy", 1))

    async def nested(depth: int) -> int:
        if depth == 0:
            return int(await ctx.step.run("deep", effect, "deep", 8))
        (value,) = await asyncio.gather(nested(depth - 1))
        return value

    return list(
        await asyncio.gather(ctx.step.wait_for("long", hours=1), busy(), nested(8))
    )


@MODES
def test_branches_busy_with_other_awaits_are_not_cut_short_by_a_sibling_s_wait(
    harness: Build, always_replay: bool
) -> None:
    h = harness(busy_beside_a_long_wait, always_replay=always_replay)
    handle = h.client.invoke(busy_beside_a_long_wait)
    assert h.client.get_execution(handle.id).status is ExecutionStatus.SUSPENDED
    assert CALLS == {"busy": 1, "deep": 1}  # both ran before the invocation suspended
    h.advance(hours=1)
    assert handle.result(timeout=5) == [None, 1, 8]
    assert CALLS == {"busy": 1, "deep": 1}


@workflow(id="detached-task")
async def detached_task(ctx: WorkflowContext) -> str:
    side = asyncio.create_task(ctx.step.run("side", effect, "side", "side"))
    await ctx.step.wait_for("nap", minutes=1)
    return str(await side)


@MODES
def test_a_task_created_beside_a_wait_is_recorded_before_the_suspension(
    harness: Build, always_replay: bool
) -> None:
    h = harness(detached_task, always_replay=always_replay)
    handle = h.client.invoke(detached_task)
    assert "side" in h.steps(handle.id)
    h.advance(minutes=1)
    assert handle.result(timeout=5) == "side"
    assert CALLS == {"side": 1}
