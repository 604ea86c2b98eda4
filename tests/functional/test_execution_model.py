"""The execution model under the faults AWS produces (DESIGN section 3), on both journals.

Wake-ups are queued, never dropped; every child outcome reaches its waiting parent; the
sweeper re-drives what nobody is running; AWS errors in the engine's own calls fail the
invocation, never the workflow.
"""

from __future__ import annotations

import asyncio
import random
import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from handlers.failures import FailureRecorder
from handlers.runner import Runner
from sdk import Client, ExecutionStatus, WorkflowContext, serde, workflow
from sdk.engine import DIED_TYPE, Engine
from sdk.errors import ChildWorkflowFailedError, TransientInfrastructureError
from sdk.ids import derived_id
from sdk.sweeper import REPORT_GRACE, START_GRACE, Sweeper
from tests.support import CALLS, FakeLambdaContext, Harness, QueueInvoker, effect

Build = Callable[..., Harness]


class Gate:
    """Holds a step body until the test opens it; counts the bodies that ran."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.opened = threading.Event()

    def hold(self, name: str) -> str:
        CALLS[name] += 1
        self.entered.set()
        assert self.opened.wait(timeout=10), "the test never opened the gate"
        return name


GATE: dict[str, Gate] = {}


def held(name: str) -> str:
    return GATE["gate"].hold(name)


@workflow(id="nap-beside-a-slow-step")
async def nap_beside_a_slow_step(ctx: WorkflowContext) -> list[Any]:
    nap = ctx.step.wait_for("nap", seconds=10)
    return list(await asyncio.gather(nap, ctx.step.run("slow", held, "slow")))


def _in_background(fn: Callable[[], Any]) -> Any:
    pool = ThreadPoolExecutor(max_workers=1)
    future = pool.submit(fn)
    pool.shutdown(wait=False)
    return future


def test_a_timer_firing_while_the_lease_is_held_is_not_lost(harness: Build) -> None:
    h = harness(nap_beside_a_slow_step)
    GATE["gate"] = gate = Gate()
    handle = Client(h.app, h.journal, QueueInvoker(), clock=h.clock).invoke(nap_beside_a_slow_step)
    running = _in_background(lambda: asyncio.run(h.engine.run(handle.id)))
    assert gate.entered.wait(timeout=10)
    h.clock.advance(seconds=10)
    # The timer's invocation finds the lease taken: it records a wake-up and leaves.
    fired = asyncio.run(h.engine.run(handle.id))
    assert fired.status == "skipped" and "wake-up recorded" in fired.detail
    gate.opened.set()
    # The holder may not suspend past that wake-up: it replays, and the nap is over.
    assert running.result(timeout=10).status == "completed"
    assert h.client.get_execution(handle.id).status is ExecutionStatus.COMPLETED
    assert CALLS["slow"] == 1


def test_two_deliveries_with_one_request_id_run_every_step_once(harness: Build) -> None:
    h = harness(nap_beside_a_slow_step)
    GATE["gate"] = gate = Gate()
    handle = Client(h.app, h.journal, QueueInvoker(), clock=h.clock).invoke(nap_beside_a_slow_step)
    runner = Runner(h.engine)
    context = FakeLambdaContext(aws_request_id="one-request")
    first = _in_background(lambda: runner({"execution_id": handle.id}, context))
    assert gate.entered.wait(timeout=10)
    second = runner({"execution_id": handle.id}, context)  # the duplicate delivery
    assert second["status"] == "skipped"
    gate.opened.set()
    assert first.result(timeout=10)["status"] == "suspended"
    h.advance(seconds=10)
    assert h.client.get_execution(handle.id).status is ExecutionStatus.COMPLETED
    assert CALLS["slow"] == 1


@workflow(id="sleeper")
async def sleeper(ctx: WorkflowContext, n: int) -> int:
    await ctx.step.wait_for("long-nap", hours=1)
    return n


@workflow(id="waiting-parent")
async def waiting_parent(ctx: WorkflowContext, n: int) -> dict[str, Any]:
    try:
        return {"value": await ctx.step.invoke_and_wait("child", sleeper, n)}
    except ChildWorkflowFailedError as failed:
        return {"failed": failed.error_type, "child": failed.execution_id}


def test_a_child_cancelled_on_its_own_releases_its_waiting_parent(harness: Build) -> None:
    h = harness(waiting_parent, sleeper)
    handle = h.client.invoke(waiting_parent, 3)
    child_id = derived_id(handle.id, "child")
    assert h.client.get_execution(child_id).status is ExecutionStatus.SUSPENDED
    h.client.cancel(child_id)
    assert handle.result(timeout=5) == {"failed": "ExecutionCancelledError", "child": child_id}


def test_a_child_failed_by_the_failure_destination_releases_its_parent(harness: Build) -> None:
    h = harness(waiting_parent, sleeper)
    h.engine.invoker = QueueInvoker()  # the child's invocations never run...
    handle = h.client.invoke(waiting_parent, 3)
    child_id = derived_id(handle.id, "child")
    assert h.client.get_execution(handle.id).status is ExecutionStatus.SUSPENDED
    record = {  # ...and Lambda gives up on them
        "requestContext": {"condition": "RetriesExhausted", "approximateInvokeCount": 3},
        "requestPayload": {"execution_id": child_id},
        "responsePayload": {"errorType": "Runtime.ExitError", "errorMessage": "exit status 1"},
    }
    assert FailureRecorder(h.journal, h.invoker, h.clock)(record, None)["marked_failed"]
    assert handle.result(timeout=5) == {"failed": "InvocationsExhausted", "child": child_id}


def test_a_child_outcome_a_crash_left_undelivered_is_delivered_by_the_sweeper(
    harness: Build,
) -> None:
    h = harness(waiting_parent, sleeper)
    h.engine.invoker = QueueInvoker()
    handle = h.client.invoke(waiting_parent, 3)
    child_id = derived_id(handle.id, "child")
    # The child's invocation records its outcome, then dies before telling its parent.
    now = h.clock.now()
    h.journal.acquire_lease(child_id, owner="child-run", now=now, expires_at=now + START_GRACE)
    h.journal.finish_execution(
        child_id, owner="child-run", status=ExecutionStatus.COMPLETED, now=now,
        output=serde.dumps(3, what="output"), due_at=now + REPORT_GRACE,
    )  # fmt: skip
    assert h.client.get_execution(handle.id).status is ExecutionStatus.SUSPENDED
    h.engine.invoker = h.invoker
    h.advance(seconds=REPORT_GRACE.total_seconds())
    assert handle.result(timeout=5) == {"value": 3}
    assert h.journal.get_execution(child_id).due_at is None


@workflow(id="counted-child")
async def counted_child(ctx: WorkflowContext, n: int) -> int:
    return int(await ctx.step.run("double", effect, f"child-{n}", 2 * n))


@workflow(id="hundred-children")
async def hundred_children(ctx: WorkflowContext, width: int) -> int:
    items = [(counted_child, i) for i in range(width)]
    return sum(await ctx.step.batch_invoke_and_wait("all", items))


def _drain(engine: Engine, queue: QueueInvoker) -> Counter[str]:
    """Run queued invocations one at a time, as asynchronous Lambda invocations would."""
    runs: Counter[str] = Counter()
    while queue.started:
        execution_id = queue.started.pop(0)
        runs[execution_id] += 1
        asyncio.run(engine.run(execution_id))
    return runs


@pytest.mark.parametrize("width", [1, 20])
def test_a_batch_of_n_children_costs_at_most_n_plus_3_invocations(
    harness: Build, width: int
) -> None:
    h = harness(hundred_children, counted_child)
    queue = QueueInvoker()
    h.engine.invoker = queue
    handle = Client(h.app, h.journal, queue, clock=h.clock).invoke(hundred_children, width)
    runs = _drain(h.engine, queue)
    assert h.client.get_execution(handle.id).status is ExecutionStatus.COMPLETED
    assert handle.result(timeout=1) == sum(2 * i for i in range(width))
    assert sum(runs.values()) <= width + 3
    assert runs[handle.id] <= 3
    assert all(count == 1 for count in CALLS.values()) and len(CALLS) == width


def test_replaying_a_parent_never_starts_its_children_again(harness: Build) -> None:
    h = harness(hundred_children, counted_child)
    queue = QueueInvoker()
    h.engine.invoker = queue
    handle = Client(h.app, h.journal, queue, clock=h.clock).invoke(hundred_children, 5)
    asyncio.run(h.engine.run(queue.started.pop(0)))  # the parent starts 5 children, suspends
    assert len(queue.started) == 5
    h.journal.wake(handle.id)  # a stray wake-up: the parent replays...
    assert asyncio.run(h.engine.run(handle.id)).status == "suspended"
    assert len(queue.started) == 5  # ...and starts no child again


@workflow(id="plain")
async def plain(ctx: WorkflowContext, n: int) -> int:
    return int(await ctx.step.run("once", effect, "once", n))


def test_an_execution_whose_start_was_lost_is_started_by_the_sweeper(harness: Build) -> None:
    h = harness(plain)
    lost = QueueInvoker()  # the client's invocation never reaches Lambda
    handle = Client(h.app, h.journal, lost, clock=h.clock).invoke(plain, 4)
    h.advance(seconds=START_GRACE.total_seconds())
    assert h.client.get_execution(handle.id).status is ExecutionStatus.COMPLETED
    assert CALLS["once"] == 1


@workflow(id="hangs")
async def hangs(ctx: WorkflowContext) -> str:
    return str(await ctx.step.run("hang", held, "hang"))


def test_an_execution_whose_invocations_keep_dying_is_failed_with_the_reason(
    harness: Build,
) -> None:
    h = harness(hangs)
    GATE["gate"] = gate = Gate()
    queue = QueueInvoker()
    handle = Client(h.app, h.journal, queue, clock=h.clock).invoke(hangs)
    sweeper = Sweeper(h.journal, queue, h.clock)
    dead = []
    for _ in range(3):  # each invocation hangs in the step until its lease runs out
        gate.entered.clear()
        run = h.engine.run(handle.id, deadline=h.clock.now() + timedelta(minutes=1))
        dead.append(_in_background(lambda run=run: asyncio.run(run)))  # type: ignore[misc]
        assert gate.entered.wait(timeout=10)
        h.clock.advance(minutes=3)
        queue.started.clear()
        assert sweeper.sweep().redriven == 1 and queue.started == [handle.id]
    outcome = asyncio.run(h.engine.run(handle.id))
    failed = h.client.get_execution(handle.id)
    assert (outcome.status, failed.status) == ("failed", ExecutionStatus.FAILED)
    assert failed.error is not None and failed.error.type == DIED_TYPE
    assert "3 invocations died" in failed.error.message
    gate.opened.set()  # the dead invocations wake up to find their lease gone
    assert [d.result(timeout=10).status for d in dead] == ["lease_lost"] * 3
    assert h.client.get_execution(handle.id).status is ExecutionStatus.FAILED


class ThrottledOnce:
    """A Lambda client stand-in whose first invocation is throttled (after botocore's
    retries), as ``TooManyRequestsException`` reaches the caller on AWS."""

    def __init__(self, then: Any) -> None:
        self.then = then
        self.calls = 0

    def invoke_async(self, execution_id: str) -> None:
        self.calls += 1
        if self.calls == 1:
            error = {"Error": {"Code": "TooManyRequestsException", "Message": "Rate exceeded"},
                     "ResponseMetadata": {"HTTPStatusCode": 429}}  # fmt: skip
            raise ClientError(error, "Invoke")  # type: ignore[arg-type]
        self.then.invoke_async(execution_id)


@workflow(id="starts-a-child")
async def starts_a_child(ctx: WorkflowContext, n: int) -> dict[str, Any]:
    before = await ctx.step.run("before", effect, "before", n)
    value = await ctx.step.invoke_and_wait("child", counted_child, before)
    return {"value": value}


def test_a_throttled_child_start_fails_the_invocation_not_the_workflow(harness: Build) -> None:
    h = harness(starts_a_child, counted_child)
    h.engine.invoker = ThrottledOnce(h.invoker)
    handle = Client(h.app, h.journal, QueueInvoker(), clock=h.clock).invoke(starts_a_child, 5)
    runner = Runner(h.engine)
    with pytest.raises(TransientInfrastructureError, match="TooManyRequestsException"):
        runner({"execution_id": handle.id}, FakeLambdaContext())
    after = h.client.get_execution(handle.id)
    assert (after.status, after.lease_owner) == (ExecutionStatus.RUNNING, None)  # released
    # Lambda's retry of the invocation carries on; the child is started once.
    assert runner({"execution_id": handle.id}, FakeLambdaContext())["status"] == "completed"
    assert handle.result(timeout=5) == {"value": 10}
    assert CALLS == {"before": 1, "child-5": 1}


def test_a_timer_firing_early_leaves_the_wait_to_its_own_time(harness: Build) -> None:
    h = harness(sleeper)
    handle = h.client.invoke(sleeper, 9)
    h.clock.advance(minutes=30)
    h.invoker.invoke_async(handle.id)  # a wake-up half an hour early
    assert h.client.get_execution(handle.id).status is ExecutionStatus.SUSPENDED
    assert [t.execution_id for t in h.timers.pending()] == [handle.id]  # still set
    h.advance(minutes=30)
    assert handle.result(timeout=5) == 9


def slow_step(name: str) -> str:
    CALLS[name] += 1
    CLOCKS[0].advance(seconds=2)  # two seconds of (virtual) work: a cancel check is due
    return name


CLOCKS: list[Any] = []


@workflow(id="slow-pair")
async def slow_pair(ctx: WorkflowContext) -> list[str]:
    return [await ctx.step.run(f"slow-{i}", slow_step, f"slow-{i}") for i in range(3)]


def test_a_throttled_cancel_check_fails_the_invocation_not_the_workflow(
    dynamodb_client: Any, clock: Any
) -> None:
    from sdk.journal.dynamodb import DynamoJournal
    from tests.faults import FaultInjector, FaultKind, skip_backoff
    from tests.support import TABLE

    CLOCKS[:] = [clock]
    h = Harness.build(DynamoJournal(dynamodb_client, TABLE), clock, [slow_pair])
    handle = Client(h.app, h.journal, QueueInvoker(), clock=h.clock).invoke(slow_pair)
    throttled = FaultInjector(random.Random(1), 1.0, [FaultKind.THROTTLE], operations={"GetItem"})
    runner = Runner(h.engine)
    throttled.attach(dynamodb_client)
    with skip_backoff(), pytest.raises(TransientInfrastructureError, match="Throttl|Throughput"):
        runner({"execution_id": handle.id}, FakeLambdaContext())
    throttled.detach(dynamodb_client)
    after = h.client.get_execution(handle.id)
    assert (after.status, after.lease_owner) == (ExecutionStatus.RUNNING, None)
    assert throttled.by_kind()[FaultKind.THROTTLE] > 1  # botocore retried before giving up
    assert runner({"execution_id": handle.id}, FakeLambdaContext())["status"] == "completed"
    assert CALLS == {"slow-0": 1, "slow-1": 1, "slow-2": 1}
