"""The app the batches benchmark runs: an immediate and a batched handler of one topic."""

from __future__ import annotations

from sdk import BatchEventPayload, EventPayload, WorkflowContext, workflow


def note(value: int) -> int:
    return value


@workflow(id="bench-immediate", trigger_on_event="bench/clicks")
async def immediate(ctx: WorkflowContext, event: EventPayload) -> int:
    return await ctx.step.run("first", note, event.sequence_id)


@workflow(
    id="bench-batched", trigger_on_event="bench/clicks", batch_size=10, batch_timeout_seconds=2
)
async def batched(ctx: WorkflowContext, batch: BatchEventPayload) -> int:
    return await ctx.step.run("first", note, len(batch.events))
