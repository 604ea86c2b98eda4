"""The app the events benchmark runs: one handler on a latency topic, two on a busy one."""

from __future__ import annotations

from sdk import EventPayload, WorkflowContext, workflow


def note(n: int) -> int:
    return n


@workflow(id="latency-handler", trigger_on_event="bench/latency")
async def latency_handler(ctx: WorkflowContext, event: EventPayload) -> int:
    return await ctx.step.run("first", note, event.sequence_id)


@workflow(id="orders-a", trigger_on_event="bench/orders")
async def orders_a(ctx: WorkflowContext, event: EventPayload) -> int:
    return await ctx.step.run("first", note, event.sequence_id)


@workflow(id="orders-b", trigger_on_event="bench/orders")
async def orders_b(ctx: WorkflowContext, event: EventPayload) -> int:
    return await ctx.step.run("first", note, event.sequence_id)
