"""Workflows for the schedule tests: a weekday report in Paris (declared), and workflows
schedules are created for at run time."""

from __future__ import annotations

from sdk import SchedulePayload, WorkflowContext, workflow


def note(moment: str) -> str:
    return moment


@workflow(id="weekday-report", schedule={"cron": "0 9 * * 1-5", "timezone": "Europe/Paris"})
async def weekday_report(ctx: WorkflowContext, tick: SchedulePayload) -> str:
    return await ctx.step.run("note", note, tick.timestamp.isoformat())


@workflow(id="no-input")
async def no_input(ctx: WorkflowContext) -> str:
    return await ctx.step.run("note", note, "ran")


@workflow(id="ticked")
async def ticked(ctx: WorkflowContext, tick: SchedulePayload) -> dict[str, str | None]:
    return {
        "timestamp": tick.timestamp.isoformat(),
        "last": None if tick.last_timestamp is None else tick.last_timestamp.isoformat(),
        "upcoming": None if tick.upcoming is None else tick.upcoming.isoformat(),
        "key": tick.key,
    }


@workflow(id="takes-orders")
async def takes_orders(ctx: WorkflowContext, order: dict[str, int]) -> int:
    return len(order)
