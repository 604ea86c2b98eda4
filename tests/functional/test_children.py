"""Child workflows on both journals: results, failures, batches, lineage and crashes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from sdk import ExecutionStatus, WorkflowContext, workflow
from sdk.errors import ChildWorkflowFailedError
from tests.support import CALLS, Harness, QueueInvoker, effect

Build = Callable[..., Harness]


@workflow(id="square")
async def square(ctx: WorkflowContext, n: int) -> dict[str, Any]:
    if n < 0:
        raise ValueError(f"cannot square {n} here")
    value = await ctx.step.run("square", effect, f"square-{n}", n * n)
    return {"value": value, "parent": ctx.parent_execution_id, "root": ctx.root_execution_id}


@workflow(id="parent")
async def parent(ctx: WorkflowContext, n: int) -> dict[str, Any]:
    before = await ctx.step.run("before", effect, "before", "b")
    child = await ctx.step.invoke_and_wait("child", square, n)
    after = await ctx.step.run("after", effect, "after", "a")
    return {"child": child, "steps": before + after, "me": ctx.execution_id}


@pytest.mark.parametrize("always_replay", [False, True])
def test_a_parent_gets_its_child_s_result_and_runs_each_step_once(
    harness: Build, always_replay: bool
) -> None:
    h = harness(parent, square, always_replay=always_replay)
    result = h.client.invoke(parent, 7).result(timeout=5)
    assert result["child"]["value"] == 49 and result["steps"] == "ba"
    assert result["child"]["parent"] == result["me"] == result["child"]["root"]
    assert CALLS == {"before": 1, "square-7": 1, "after": 1}


@workflow(id="careful-parent")
async def careful_parent(ctx: WorkflowContext, n: int) -> dict[str, Any]:
    try:
        await ctx.step.invoke_and_wait("child", square, n)
    except ChildWorkflowFailedError as failed:
        cause = failed.__cause__
        return {"child": failed.execution_id, "workflow": failed.workflow_id,
                "type": failed.error_type, "cause": f"{type(cause).__name__}: {cause}"}  # fmt: skip
    return {}


def test_a_failed_child_raises_in_the_parent_carrying_its_error(harness: Build) -> None:
    h = harness(careful_parent, square)
    caught = h.client.invoke(careful_parent, -2).result(timeout=5)
    assert (caught["workflow"], caught["type"]) == ("square", "ValueError")
    assert caught["cause"] == "ValueError: cannot square -2 here"
    assert h.client.get_execution(caught["child"]).status is ExecutionStatus.FAILED


def test_an_uncaught_child_failure_fails_the_parent_naming_both(harness: Build) -> None:
    h = harness(parent, square)
    with pytest.raises(
        ChildWorkflowFailedError, match=r"child square .* failed: ValueError: cannot"
    ) as failed:
        h.client.invoke(parent, -2).result(timeout=5)
    assert (failed.value.workflow_id, failed.value.error_type) == ("square", "ValueError")
    assert repr(failed.value.__cause__) == "ValueError('cannot square -2 here')"


@workflow(id="fan-out-children")
async def fan_out_children(ctx: WorkflowContext, numbers: list[int]) -> list[Any]:
    results = await ctx.step.batch_invoke_and_wait("squares", [(square, n) for n in numbers])
    return [r["value"] if isinstance(r, dict) else f"failed: {r.message}" for r in results]


def test_twenty_children_give_twenty_results_in_order(harness: Build) -> None:
    h = harness(fan_out_children, square)
    numbers = list(range(20))
    assert h.client.invoke(fan_out_children, numbers).result(timeout=10) == [n * n for n in numbers]
    assert len([e for e in h.client.list_executions() if e.workflow_id == "square"]) == 20


def test_a_failed_child_is_an_error_in_its_slot(harness: Build) -> None:
    h = harness(fan_out_children, square)
    assert h.client.invoke(fan_out_children, [2, -1, 3]).result(timeout=5) == [
        4,
        "failed: cannot square -1 here",
        9,
    ]


class SimulatedKill(BaseException):
    """The parent's invocation dies."""


class KillAfterStarts:
    """Starts nothing itself; dies once ``limit`` children have been started."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.started = QueueInvoker()

    def invoke_async(self, execution_id: str) -> None:
        self.started.invoke_async(execution_id)
        if len(self.started.started) == self.limit:
            raise SimulatedKill(f"killed after starting {self.limit} children")


def test_a_parent_killed_after_starting_its_children_still_has_exactly_twenty(
    harness: Build,
) -> None:
    h = harness(fan_out_children, square)
    h.engine.invoker = killer = KillAfterStarts(limit=20)
    numbers = list(range(20))
    with pytest.raises(SimulatedKill):
        h.client.invoke(fan_out_children, numbers, execution_id="the-parent")
    assert len(set(killer.started.started)) == 20  # all started, no result recorded
    assert h.steps("the-parent") == {}

    h.engine.invoker = h.invoker  # the retry of the parent's invocation
    h.invoker.invoke_async("the-parent")
    assert h.client.handle("the-parent").result(timeout=10) == [n * n for n in numbers]
    children = [e for e in h.client.list_executions() if e.workflow_id == "square"]
    assert len(children) == 20
    assert {e.execution_id for e in children} == set(killer.started.started)
    assert {e.parent_execution_id for e in children} == {"the-parent"}


@workflow(id="starter")
async def starter(ctx: WorkflowContext) -> list[str]:
    one = await ctx.step.invoke("one", square, 3)
    many = await ctx.step.batch_invoke("many", [(square, 4), ("square", 5)])
    return [one.id, *[handle.id for handle in many]]


def test_fire_and_forget_children_run_on_their_own(harness: Build) -> None:
    h = harness(starter, square)
    ids = h.client.invoke(starter).result(timeout=5)
    values = [h.client.handle(i).result(timeout=5)["value"] for i in ids]
    assert values == [9, 16, 25]


@workflow(id="grandparent")
async def grandparent(ctx: WorkflowContext) -> dict[str, Any]:
    result: dict[str, Any] = await ctx.step.invoke_and_wait("middle", parent, 2)
    result["grandparent"] = ctx.execution_id
    return result


def test_a_grandchild_carries_the_root_id(harness: Build) -> None:
    h = harness(grandparent, parent, square)
    result = h.client.invoke(grandparent).result(timeout=5)
    assert result["child"]["root"] == result["grandparent"]
    assert result["child"]["parent"] == result["me"] != result["grandparent"]


@workflow(id="child-pipeline")
async def child_pipeline(ctx: WorkflowContext, n: int) -> int:
    return int(await ctx.step.run("enrich", effect, "enrich", n + 1))


@workflow(id="data-pipeline")
async def data_pipeline(ctx: WorkflowContext, n: int) -> int:
    extracted = await ctx.step.run("extract", effect, "extract", n)
    transformed = await ctx.step.run("transform", effect, "transform", extracted * 2)
    enriched = await ctx.step.invoke_and_wait("child_pipeline", child_pipeline, transformed)
    return int(await ctx.step.run("load", effect, "load", enriched))


def test_a_waited_child_s_step_keeps_the_place_where_the_parent_called_it(harness: Build) -> None:
    h = harness(data_pipeline, child_pipeline)
    handle = h.client.invoke(data_pipeline, 1)
    assert handle.result(timeout=5) == 3
    recorded = [s for s in h.steps(handle.id).values() if not s.bookkeeping]
    ordered = sorted(recorded, key=lambda s: (s.position, s.key))
    assert [s.key for s in ordered] == ["extract", "transform", "child_pipeline", "load"]
