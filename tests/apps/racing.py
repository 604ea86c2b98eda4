"""A workflow whose step bodies append a line to a file: real runs, counted across processes."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sdk import WorkflowContext, workflow

STEPS = ("first", "left", "right", "last")


def logged(log: str, name: str) -> str:
    """A step body: one line in ``log`` for every time it really runs."""
    with Path(log).open("a") as out:
        out.write(name + "\n")
    return name


@workflow(id="logged-steps")
async def logged_steps(ctx: WorkflowContext, log: str) -> list[str]:
    """``first``, then ``left`` and ``right`` side by side, then ``last``."""
    first = await ctx.step.run("first", logged, log, "first")
    left, right = await asyncio.gather(
        ctx.step.run("left", logged, log, "left"), ctx.step.run("right", logged, log, "right")
    )
    last = await ctx.step.run("last", logged, log, "last")
    return [first, left, right, last]
