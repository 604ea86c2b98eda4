"""Workflows for the SIGKILL campaign: steps that take a little real time and log each run.

Every step body appends ``<execution id> <step key>`` to the log file named in the input,
so the test counts how often each body ran across worker processes.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from sdk import WorkflowContext, workflow


def logged(log: str, execution_id: str, key: str, value: int) -> int:
    with Path(log).open("a") as out:
        out.write(f"{execution_id} {key}\n")
    time.sleep(0.05)  # the step's own work, long enough to be killed in
    return value


@workflow(id="k-chain")
async def chain(ctx: WorkflowContext, job: dict[str, Any]) -> int:
    total = 0
    for i in range(job["steps"]):
        total += await ctx.step.run(f"s{i}", logged, job["log"], ctx.execution_id, f"s{i}", i)
    return total


@workflow(id="k-napper")
async def napper(ctx: WorkflowContext, job: dict[str, Any]) -> int:
    before = await ctx.step.run("before", logged, job["log"], ctx.execution_id, "before", 1)
    await ctx.step.wait_for("nap", seconds=1)
    return before + await ctx.step.run("after", logged, job["log"], ctx.execution_id, "after", 2)


@workflow(id="k-child")
async def child(ctx: WorkflowContext, job: dict[str, Any]) -> int:
    return int(
        await ctx.step.run("double", logged, job["log"], ctx.execution_id, "double", 2 * job["n"])
    )


@workflow(id="k-parent")
async def parent(ctx: WorkflowContext, job: dict[str, Any]) -> int:
    one, side = await asyncio.gather(
        ctx.step.invoke_and_wait("one", child, {"log": job["log"], "n": 1}),
        ctx.step.run("side", logged, job["log"], ctx.execution_id, "side", 10),
    )
    many = await ctx.step.batch_invoke_and_wait(
        "many", [(child, {"log": job["log"], "n": n}) for n in (2, 3, 4)]
    )
    return int(one + side + sum(many))
