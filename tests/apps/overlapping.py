"""Declared schedules whose executions outlast the interval between ticks."""

from __future__ import annotations

from sdk import SchedulePayload, WorkflowContext, workflow


@workflow(id="slow-tick", schedule={"cron": "*/10 * * * *", "key": "ten"})
async def slow_tick(ctx: WorkflowContext, tick: SchedulePayload) -> str:
    """Takes 25 minutes: the next two ticks find it still running."""
    await ctx.step.wait_for("work", minutes=25)
    return tick.timestamp.isoformat()


@workflow(id="side-by-side", schedule={"cron": "*/10 * * * *", "overlap": "allow"})
async def side_by_side(ctx: WorkflowContext, tick: SchedulePayload) -> str:
    await ctx.step.wait_for("work", minutes=25)
    return tick.timestamp.isoformat()
