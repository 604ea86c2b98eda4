"""A workflow with a short real-time wait, for the emulator's timer test."""

from __future__ import annotations

from sdk import WorkflowContext, workflow


def mark(name: str) -> str:
    return name


@workflow(id="two-second-wait")
async def two_second_wait(ctx: WorkflowContext) -> str:
    await ctx.step.run("before", mark, "before")
    await ctx.step.wait_for("pause", seconds=2)
    return await ctx.step.run("after", mark, "after")
