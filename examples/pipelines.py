"""The streaming page's data pipeline: three steps around a child pipeline.

Its lifecycle stream is the page's list: the parent's start, ``extract`` and
``transform``, then the child's own events where the parent awaits it, then ``load``
and the parent's finish (``examples/streaming.py`` follows it).
"""

from __future__ import annotations

from pydantic import BaseModel

from sdk import WorkflowContext, workflow


class PipelineInput(BaseModel):
    source: str
    table: str


PipeInput = PipelineInput  # the page starts it with this name


def extract_data(input: PipelineInput) -> list[dict[str, int]]:
    return [{"id": n, "amount": n * 10} for n in range(1, 4)]


def transform_data(rows: list[dict[str, int]]) -> list[dict[str, int]]:
    return [{**row, "amount_cents": row["amount"] * 100} for row in rows]


def validate_rows(rows: list[dict[str, int]]) -> list[dict[str, int]]:
    return [row for row in rows if row["amount"] > 0]


def enrich_rows(rows: list[dict[str, int]]) -> list[dict[str, int]]:
    return [{**row, "large": int(row["amount"] >= 20)} for row in rows]


def load_data(rows: list[dict[str, int]]) -> int:
    return len(rows)


@workflow(id="child_pipeline")
async def child_pipeline(ctx: WorkflowContext, rows: list[dict[str, int]]) -> list[dict[str, int]]:
    valid = await ctx.step.run("validate", validate_rows, rows)
    return await ctx.step.run("enrich", enrich_rows, valid)


@workflow(id="data_pipeline")
async def data_pipeline(ctx: WorkflowContext, input: PipelineInput) -> int:
    data = await ctx.step.run("extract", extract_data, input)
    transformed = await ctx.step.run("transform", transform_data, data)
    final = await ctx.step.invoke_and_wait("child_pipeline", child_pipeline, transformed)
    loaded: int = await ctx.step.run("load", load_data, final)
    return loaded
