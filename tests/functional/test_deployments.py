"""Deployment changes park an execution, never fail it; a resume after the fix runs it on.

Each test runs one deployment of the app (an ``Engine`` over an ``App``), then another on
the same journal, as a new Lambda version would.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from pydantic import BaseModel

from sdk import App, Client, Engine, ExecutionStatus, WorkflowContext, workflow
from sdk.client import InlineInvoker
from sdk.errors import ExecutionNotRunnableError, ExecutionParkedError
from sdk.ids import derived_id
from sdk.journal import ExecutionRecord
from tests.support import CALLS, Harness, QueueInvoker, effect

Build = Callable[..., Harness]


def charge(n: int) -> int:
    CALLS["charge"] += 1
    return n


def bill(n: int) -> int:  # what a later deployment calls at the same key
    CALLS["bill"] += 1
    return n


def _v1_body() -> Any:
    async def body(ctx: WorkflowContext, n: int) -> int:
        paid = await ctx.step.run("pay", charge, n)
        await ctx.step.wait_for("cool-off", minutes=5)
        return int(await ctx.step.run("done", effect, "done", paid))

    return body


def _v2_body() -> Any:
    async def body(ctx: WorkflowContext, n: int) -> int:
        try:
            paid = await ctx.step.run("pay", bill, n)  # changed: not what the journal holds
        except Exception:  # a plain handler must not swallow a non-deterministic replay
            return -1
        await ctx.step.wait_for("cool-off", minutes=5)
        return int(await ctx.step.run("done", effect, "done", paid))

    return body


v1 = workflow(id="payment")(_v1_body())
v2 = workflow(id="payment")(_v2_body())


def _deploy(h: Harness, *workflows: Any) -> None:
    """Point the harness at another deployment of the app (same journal, timers, clock)."""
    h.app = App(workflows)
    h.engine = Engine(h.app, h.journal, h.clock, timers=h.timers)
    h.invoker = InlineInvoker(h.engine)
    h.client = Client(h.app, h.journal, h.invoker, clock=h.clock)
    h.sweeper.invoker = h.invoker


def test_a_non_deterministic_replay_parks_the_execution_with_the_reason(harness: Build) -> None:
    h = harness(v1)
    handle = h.client.invoke(v1, 7)
    _deploy(h, v2)
    h.advance(minutes=5)
    parked = h.client.get_execution(handle.id)
    assert parked.status is ExecutionStatus.PARKED
    assert parked.error is not None and parked.error.type_name == "NonDeterministicError"
    assert "run(charge)" in parked.error.message and "run(bill)" in parked.error.message
    assert [r.execution_id for r in h.client.list_executions(status="parked")] == [handle.id]
    with pytest.raises(ExecutionParkedError, match="parked .*resume"):
        h.client.handle(handle.id).result(timeout=1)
    assert CALLS == {"charge": 1}


def test_a_parked_execution_resumed_after_the_fix_completes(harness: Build) -> None:
    h = harness(v1)
    handle = h.client.invoke(v1, 7)
    _deploy(h, v2)
    h.advance(minutes=5)
    _deploy(h, v1)  # the fix
    resumed = h.client.resume(handle.id)
    assert resumed.status is ExecutionStatus.SUSPENDED  # runnable again
    assert h.client.handle(handle.id).result(timeout=5) == 7
    assert CALLS == {"charge": 1, "done": 1}


def test_a_workflow_missing_from_the_deployment_parks_its_executions(harness: Build) -> None:
    h = harness(v1)
    handle = h.client.invoke(v1, 3)
    _deploy(h, workflow(id="something-else")(_v1_body()))
    h.advance(minutes=5)
    parked = h.client.get_execution(handle.id)
    assert parked.status is ExecutionStatus.PARKED
    assert parked.error is not None and parked.error.type_name == "WorkflowNotFoundError"
    _deploy(h, v1)
    h.client.resume(handle.id)
    assert h.client.handle(handle.id).result(timeout=5) == 3


def test_a_parked_execution_can_be_cancelled(harness: Build) -> None:
    h = harness(v1)
    handle = h.client.invoke(v1, 3)
    _deploy(h, v2)
    h.advance(minutes=5)
    assert h.client.cancel(handle.id).status is ExecutionStatus.CANCELLED


def test_only_a_parked_execution_can_be_resumed(harness: Build) -> None:
    h = harness(v1)
    handle = h.client.invoke(v1, 3)
    with pytest.raises(ExecutionNotRunnableError, match="is suspended, not parked"):
        h.client.resume(handle.id)


class ChildInput(BaseModel):
    n: int


class ChildInputV2(BaseModel):
    n: int
    currency: str = "EUR"  # a later deployment adds a defaulted field


@workflow(id="priced")
async def priced(ctx: WorkflowContext, data: ChildInput) -> int:
    return int(await ctx.step.run("price", effect, "price", data.n * 10))


@workflow(id="priced")
async def priced_v2(ctx: WorkflowContext, data: ChildInputV2) -> int:
    return int(await ctx.step.run("price", effect, "price", data.n * 10))


def _shop_body() -> Any:
    async def body(ctx: WorkflowContext, n: int) -> int:
        return int(await ctx.step.invoke_and_wait("price-it", "priced", {"n": n}))

    return body


shop = workflow(id="shop")(_shop_body())


def test_a_child_input_that_gained_a_defaulted_field_is_not_a_conflict(harness: Build) -> None:
    h = harness(shop, priced_v2)
    handle = Client(h.app, h.journal, QueueInvoker(), clock=h.clock).invoke(shop, 4)
    child_id = derived_id(handle.id, "price-it")
    # An earlier deployment created the child with its input type of then, and its
    # invocation died before recording that the child was started.
    h.journal.create_execution(ExecutionRecord(
        child_id, "priced", ExecutionStatus.PENDING, created_at=h.clock.now(), input='{"n":4}',
        parent_execution_id=handle.id, root_execution_id=handle.id, parent_step_key="price-it",
    ))  # fmt: skip
    h.invoker.invoke_async(handle.id)  # this deployment encodes {"n": 4, "currency": "EUR"}
    assert h.client.handle(handle.id).result(timeout=5) == 40
    assert CALLS == {"price": 1}
