"""Batched analytics: up to 10 events per run, or whatever arrived within 30 seconds."""

from __future__ import annotations

from typing import Any

from sdk import BatchEventPayload, WorkflowContext, workflow


def insert_analytics(rows: list[Any]) -> int:
    return len(rows)


@workflow(
    id="batch-processor",
    trigger_on_event="analytics/events",
    batch_size=10,
    batch_timeout_seconds=30,
)
async def batch_processor(ctx: WorkflowContext, payload: BatchEventPayload) -> dict[str, int]:
    rows = [event.data for event in payload.events]
    inserted = await ctx.step.run("batch_insert", insert_analytics, rows)
    return {"processed": inserted}
