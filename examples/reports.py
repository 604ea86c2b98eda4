"""A daily report at 09:00 Paris time."""

from __future__ import annotations

from sdk import SchedulePayload, WorkflowContext, workflow


def gather_metrics(day: str) -> dict[str, int]:
    return {"orders": 12, "signups": 4}


def send_report(day: str, metrics: dict[str, int]) -> str:
    return f"report for {day}: {metrics}"


@workflow(id="daily-report", schedule={"cron": "0 9 * * *", "timezone": "Europe/Paris"})
async def daily_report(ctx: WorkflowContext, tick: SchedulePayload) -> str:
    day = tick.timestamp.date().isoformat()
    metrics = await ctx.step.run("metrics", gather_metrics, day)
    return await ctx.step.run("send", send_report, day, metrics)
