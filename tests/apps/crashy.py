"""Workflows that kill their execution environment, for the emulator's crash tests."""

from __future__ import annotations

import os
from pathlib import Path

from sdk import WorkflowContext, workflow


def note(log: str, name: str) -> str:
    with Path(log).open("a") as out:
        out.write(name + "\n")
    return name


def exit_on_first_attempt(log: str, marker: str) -> str:
    note(log, "crashing-step")
    if not Path(marker).exists():
        Path(marker).write_text("crashed once")
        os._exit(1)  # the whole execution environment dies, as on a segfault or OOM
    return "survived"


def always_exit(log: str) -> None:
    note(log, "doomed-step")
    os._exit(1)


@workflow(id="crash-once")
async def crash_once(ctx: WorkflowContext, paths: dict[str, str]) -> list[str]:
    first = await ctx.step.run("before-1", note, paths["log"], "before-1")
    second = await ctx.step.run("before-2", note, paths["log"], "before-2")
    third = await ctx.step.run("crash", exit_on_first_attempt, paths["log"], paths["marker"])
    return [first, second, third]


@workflow(id="always-crash")
async def always_crash(ctx: WorkflowContext, log: str) -> None:
    await ctx.step.run("before", note, log, "before")
    await ctx.step.run("doomed", always_exit, log)
