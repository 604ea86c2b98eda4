"""The workflow the lifecycle stream benchmark follows: steps of a known length."""

from __future__ import annotations

import time

from sdk import WorkflowContext, workflow

STEP_SECONDS = 0.05


def work(n: int) -> int:
    time.sleep(STEP_SECONDS)  # a step body doing 50 ms of I/O
    return n


@workflow(id="stream-bench")
async def stream_bench(ctx: WorkflowContext, steps: int) -> int:
    for n in range(steps):
        await ctx.step.run(f"step-{n}", work, n)
    return steps
