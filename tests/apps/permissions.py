"""Workflows that between them make every AWS call a deployed function makes.

Large values (past DynamoDB's item limit) go to S3; waits go to the timer queue and to a
schedule; children report to their parents, a doomed one through the failure function;
events are published (from a step, the API and the bus), trigger workflows and end waits;
schedules tick (declared and created through the API), once more and over a running one.
"""

from __future__ import annotations

from sdk import EventPayload, SchedulePayload, TerminalError, WorkflowContext, workflow

LARGE = 450_000  # characters: past DynamoDB's 400 KB item limit, so the value lives in S3


def grow(text: str) -> str:
    return text + "!"


def double(n: int) -> int:
    return 2 * n


def explode(text: str) -> None:
    raise TerminalError(f"refused {len(text)} characters")


@workflow(id="large")
async def large(ctx: WorkflowContext, text: str) -> str:
    return await ctx.step.run("grow", grow, text)


@workflow(id="doubler")
async def doubler(ctx: WorkflowContext, n: int) -> int:
    return await ctx.step.run("double", double, n)


@workflow(id="naps")
async def naps(ctx: WorkflowContext) -> str:
    await ctx.step.wait_for("short", seconds=1)
    await ctx.step.wait_for("long", minutes=20)
    return "rested"


@workflow(id="family")
async def family(ctx: WorkflowContext, n: int) -> list[object]:
    small = await ctx.step.invoke_and_wait("small", doubler, n)
    big = await ctx.step.invoke_and_wait("big", large, "y" * LARGE)
    return [small, len(big)]


@workflow(id="doomed")
async def doomed(ctx: WorkflowContext, text: str) -> None:
    await ctx.step.run("explode", explode, text)


@workflow(id="doomed-parent")
async def doomed_parent(ctx: WorkflowContext) -> None:
    await ctx.step.invoke_and_wait("doomed", doomed, "z" * LARGE)


@workflow(id="on-signup", trigger_on_event="perm/signup")
async def on_signup(ctx: WorkflowContext, event: EventPayload) -> int:
    """Triggered by an event with large data; answers with an event of its own."""
    published = await ctx.step.publish_event(
        "answer", "perm/reply", {"size": len(event.data["blob"])}, event_type="answered"
    )
    return published.sequence_id


@workflow(id="awaits-reply")
async def awaits_reply(ctx: WorkflowContext, topic: str) -> object:
    reply = await ctx.step.wait_for_event("reply", topic, timeout=3600)
    return reply.data



@workflow(id="perm-tick", schedule={"cron": "*/5 * * * *", "timezone": "Europe/Paris"})
async def perm_tick(ctx: WorkflowContext, tick: SchedulePayload) -> str:
    """Outlasts its interval: the next tick finds it running and is skipped."""
    await ctx.step.wait_for("work", minutes=7)
    return tick.timestamp.isoformat()


@workflow(id="perm-ticked")
async def perm_ticked(ctx: WorkflowContext, tick: SchedulePayload) -> str:
    return await ctx.step.run("grow", grow, tick.timestamp.isoformat())
