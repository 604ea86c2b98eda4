"""Workflows with real-time waits (short and past 15 minutes) and children, for the emulator."""

from __future__ import annotations

from sdk import WorkflowContext, workflow


def mark(name: str) -> str:
    return name


@workflow(id="two-second-wait")
async def two_second_wait(ctx: WorkflowContext) -> str:
    await ctx.step.run("before", mark, "before")
    await ctx.step.wait_for("pause", seconds=2)
    return await ctx.step.run("after", mark, "after")


def double(n: int) -> int:
    return 2 * n


@workflow(id="doubler")
async def doubler(ctx: WorkflowContext, n: int) -> int:
    return await ctx.step.run("double", double, n)


@workflow(id="family")
async def family(ctx: WorkflowContext, n: int) -> list[int]:
    one = await ctx.step.invoke_and_wait("one", doubler, n)
    rest = await ctx.step.batch_invoke_and_wait("rest", [(doubler, n + i) for i in (1, 2)])
    return [one, *rest]


@workflow(id="long-wait")
async def long_wait(ctx: WorkflowContext) -> str:
    await ctx.step.wait_for("nap", minutes=20)
    return "rested"
