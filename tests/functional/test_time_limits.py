"""Lambda time limits: near its deadline an invocation stops at a step boundary and re-invokes."""

from __future__ import annotations

from datetime import timedelta

from sdk import App, Client, Engine, InlineInvoker, VirtualClock, WorkflowContext, workflow
from sdk.journal import Journal
from tests.support import CALLS

CLOCK: dict[str, VirtualClock] = {}


def slow_step(i: int) -> int:
    CALLS[f"s{i}"] += 1
    CLOCK["clock"].advance(seconds=0.01)  # each step takes 10 ms of (virtual) time
    return i


@workflow(id="long-haul")
async def long_haul(ctx: WorkflowContext, steps: int) -> int:
    total = 0
    for i in range(steps):
        total += await ctx.step.run(f"s{i}", slow_step, i)
    return total


def test_a_3000_step_workflow_completes_across_invocations_of_10_seconds(
    journal: Journal, clock: VirtualClock
) -> None:
    CLOCK["clock"] = clock
    app = App([long_haul])
    engine = Engine(app, journal, clock, deadline_margin=timedelta(seconds=1))
    invoker = InlineInvoker(engine, time_limit=timedelta(seconds=10))
    client = Client(app, journal, invoker, clock=clock)

    handle = client.invoke(long_haul, 3000)

    assert handle.result(timeout=5) == sum(range(3000))
    # 30 s of steps, at most 9 s of them per invocation: four invocations.
    assert invoker.invocations == 4
    assert len(journal.load_steps(handle.id)) == 3000
    assert len(CALLS) == 3000 and set(CALLS.values()) == {1}  # each step ran once


def test_without_a_deadline_an_invocation_runs_to_the_end(
    journal: Journal, clock: VirtualClock
) -> None:
    CLOCK["clock"] = clock
    app = App([long_haul])
    invoker = InlineInvoker(Engine(app, journal, clock))
    client = Client(app, journal, invoker, clock=clock)
    assert client.invoke(long_haul, 50).result(timeout=5) == sum(range(50))
    assert invoker.invocations == 1
