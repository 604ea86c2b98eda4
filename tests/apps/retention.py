"""Workflows whose journals ``tests/functional/test_retention.py`` reads item by item."""

from __future__ import annotations

from typing import Any

from sdk import WorkflowContext, workflow
from sdk.errors import ChildWorkflowFailedError

# What a step body needs from the running test (its client and clock), set by the test.
TEST: dict[str, Any] = {}


def same(value: Any) -> Any:
    return value


def shout(text: str) -> str:
    return text.upper()


@workflow(id="echo")
async def echo(ctx: WorkflowContext, text: str) -> str:
    return str(await ctx.step.run("echo", same, text))


@workflow(id="kept")
async def kept(ctx: WorkflowContext, text: str) -> str:
    """A step, a wait, a child; its input, its child's and both outputs are long."""
    loud = await ctx.step.run("shout", shout, text)
    await ctx.step.wait_for("pause", hours=1)
    return loud + await ctx.step.invoke_and_wait("child", echo, text)


@workflow(id="broken")
async def broken(ctx: WorkflowContext, n: int) -> int:
    await ctx.step.run("first", same, n)
    await ctx.step.wait_for("pause", hours=1)
    raise ValueError("broken on purpose")


@workflow(id="idle")
async def idle(ctx: WorkflowContext) -> str:
    """Waits longer than an execution may live."""
    await ctx.step.run("first", same, "first")
    await ctx.step.wait_for("nap", days=400)
    return "woke"


@workflow(id="patient")
async def patient(ctx: WorkflowContext) -> str:
    """Waits a day, then on a child that outlives its lifetime."""
    await ctx.step.wait_for("day", days=1)
    return str(await ctx.step.invoke_and_wait("child", idle))


@workflow(id="waits-on-idle")
async def waits_on_idle(ctx: WorkflowContext) -> str:
    try:
        return str(await ctx.step.invoke_and_wait("child", idle))
    except ChildWorkflowFailedError as failed:
        return failed.error_type


def cancel_myself(execution_id: str) -> str:
    TEST["client"].cancel(execution_id)
    TEST["clock"].advance(seconds=1)  # the engine looks for requests at most once a second
    return "asked"


@workflow(id="self-cancelling")
async def self_cancelling(ctx: WorkflowContext) -> str:
    await ctx.step.run("first", same, "first")
    await ctx.step.run("cancel", cancel_myself, ctx.execution_id)
    await ctx.step.run("never", same, "never")
    return "finished"
