"""The app the emulator benchmark runs: one workflow of three trivial steps."""

from __future__ import annotations

from sdk import WorkflowContext, workflow


def add(a: int, b: int) -> int:
    return a + b


@workflow(id="three-steps")
async def three_steps(ctx: WorkflowContext, n: int) -> int:
    a = await ctx.step.run("one", add, n, 1)
    b = await ctx.step.run("two", add, a, 1)
    return await ctx.step.run("three", add, b, 1)
