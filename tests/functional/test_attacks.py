"""Hostile review of the execution model (DESIGN section 3, docs/semantics.md).

Each test forces one interleaving or one fault that a fresh-eyed review used to break the
model; the docstrings tell the interleaving, what went wrong before it was fixed, and so
the rule that now holds.
Interleavings are forced with ``Hooked``, a journal that runs a hook before a method,
so the test decides exactly what another actor does between two lines of the engine.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from handlers.runner import Runner
from sdk import Client, ExecutionStatus, VirtualClock, WorkflowContext, workflow
from sdk.delivery import deliver_outcome
from sdk.engine import DIED_TYPE, Outcome
from sdk.errors import LeaseLost, TransientInfrastructureError
from sdk.journal import Journal
from sdk.journal.dynamodb import DynamoJournal
from sdk.journal.records import ExecutionRecord
from sdk.sweeper import Sweeper
from tests.support import CALLS, TABLE, FakeLambdaContext, Harness, QueueInvoker, effect

Build = Callable[..., Harness]


class Hooked:
    """A journal whose methods may run a one-shot hook first (to force an interleaving)."""

    def __init__(self, inner: Journal) -> None:
        self.inner = inner
        self.before: dict[str, Callable[..., None]] = {}

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.inner, name)
        if name not in self.before or not callable(attr):
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            hook = self.before.pop(name, None)
            if hook is not None:
                hook(*args, **kwargs)
            return attr(*args, **kwargs)

        return call


def throttled(operation: str) -> ClientError:
    """What reaches the caller once botocore's retries of a throttled call ran out."""
    error = {"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"},
             "ResponseMetadata": {"HTTPStatusCode": 400}}  # fmt: skip
    return ClientError(error, operation)  # type: ignore[arg-type]


def in_thread(fn: Callable[[], Any]) -> tuple[threading.Thread, list[Any]]:
    box: list[Any] = []

    def target() -> None:
        try:
            box.append(fn())
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            box.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    return thread, box


# --------------------------------------------------------------------------------------
# Suspension is decided by user-visible exceptions, not by the engine's own state
# --------------------------------------------------------------------------------------


@workflow(id="attack-swallows-suspend")
async def swallows_suspend(ctx: WorkflowContext) -> str:
    try:
        await ctx.step.wait_for("nap", seconds=10)
    except BaseException:  # noqa: BLE001 - what a careless workflow does
        return "swallowed"
    return "woke"


def test_except_base_exception_around_a_wait_does_not_complete_the_execution(
    harness: Build,
) -> None:
    """DESIGN 3 'Suspension': ``except BaseException`` does not change the outcome.

    Interleaving: the wait raises ``Suspend`` into workflow code, which catches it and
    returns; ``Invocation._complete`` records whatever the coroutine returned without
    looking at ``state.suspending``, so the execution COMPLETES with "swallowed" ten
    seconds early. Fix: after the workflow coroutine returns or raises, if
    ``state.suspending`` (or any branch is blocked) treat it as a suspension.
    """
    h = harness(swallows_suspend)
    handle = h.client.invoke(swallows_suspend)
    assert h.client.get_execution(handle.id).status is ExecutionStatus.SUSPENDED
    h.advance(seconds=10)
    assert handle.result(timeout=5) == "woke"


@workflow(id="attack-gather-return-exceptions")
async def gather_return_exceptions(ctx: WorkflowContext) -> list[Any]:
    results = await asyncio.gather(
        ctx.step.wait_for("nap", seconds=10),
        ctx.step.run("quick", effect, "quick", 1),
        return_exceptions=True,
    )
    return [type(r).__name__ if isinstance(r, BaseException) else r for r in results]


def test_gather_with_return_exceptions_does_not_change_the_outcome(harness: Build) -> None:
    """DESIGN 3: ``gather(return_exceptions=True)`` does not change the outcome.

    Interleaving: the nap's branch raises ``Suspend``; gather collects it as a result
    and the workflow returns ``["Suspend", 1]``: the execution completes at once with
    the engine's control signal in its output. Same fix as above.
    """
    h = harness(gather_return_exceptions)
    handle = h.client.invoke(gather_return_exceptions)
    assert h.client.get_execution(handle.id).status is ExecutionStatus.SUSPENDED
    h.advance(seconds=10)
    assert handle.result(timeout=5) == [None, 1]


@workflow(id="attack-finally-around-a-wait")
async def finally_around_a_wait(ctx: WorkflowContext) -> str:
    try:
        await ctx.step.wait_for("nap", seconds=10)
    finally:
        await ctx.step.run("cleanup", effect, "cleanup")
    return "done"


def test_a_finally_around_a_wait_runs_its_step_only_once_the_wait_is_over(
    harness: Build,
) -> None:
    """DESIGN 3: 'A ``finally`` around a wait runs its steps when the workflow really
    passes that point' and 'from the moment it decides, no new step body runs'.

    Interleaving: ``Suspend`` unwinds through the ``finally``; ``before_new_step`` does
    not look at ``state.suspending``, so the cleanup body runs and is recorded ten
    seconds before the wait ends (a release of a resource still in use, say). Fix:
    once ``state.suspending`` is set, ``begin``/``before_new_step`` must park the branch
    (never run or record a step) instead of running it.
    """
    h = harness(finally_around_a_wait)
    handle = h.client.invoke(finally_around_a_wait)
    assert h.client.get_execution(handle.id).status is ExecutionStatus.SUSPENDED
    assert CALLS["cleanup"] == 0, "the cleanup ran while the wait was still pending"
    h.advance(seconds=10)
    assert handle.result(timeout=5) == "done"
    assert CALLS["cleanup"] == 1


@workflow(id="attack-parked-branch-with-finally")
async def parked_branch_with_finally(ctx: WorkflowContext) -> str:
    async def guarded() -> None:
        try:
            await ctx.step.wait_for("long", seconds=20)
        finally:
            await ctx.step.run("cleanup", effect, "cleanup")

    await asyncio.gather(guarded(), ctx.step.wait_for("short", seconds=10))
    return "done"


def test_a_parked_branch_runs_and_records_no_step_after_the_suspension(
    harness: Build,
) -> None:
    """The 'short' branch raises ``Suspend`` (checked: the cleanup does not run through
    the ``Suspend`` itself here); the 'long' branch stays parked on a future
    that never resolves. The suspension is written (the lease is dropped), then
    ``asyncio.run`` cancels the parked task on its way out: ``CancelledError`` runs the
    branch's ``finally``, whose step body runs and whose record is written with no
    lease held, after the execution was marked suspended (while another invocation
    may already own it). Fix: the engine must cancel/park its own tasks itself before
    writing the suspension, and no step may start once ``suspending`` is set.
    """
    h = harness(parked_branch_with_finally)
    handle = h.client.invoke(parked_branch_with_finally)
    assert h.client.get_execution(handle.id).status is ExecutionStatus.SUSPENDED
    assert CALLS["cleanup"] == 0, "a parked branch ran a step after the suspension"
    assert "cleanup" not in h.steps(handle.id)
    h.advance(seconds=10)
    assert CALLS["cleanup"] == 0
    h.advance(seconds=10)
    assert handle.result(timeout=5) == "done"
    assert CALLS["cleanup"] == 1


# --------------------------------------------------------------------------------------
# A replay after WokenUp runs in the same event loop as the replay it replaces
# --------------------------------------------------------------------------------------


@workflow(id="attack-pause-then-step")
async def pause_then_step(ctx: WorkflowContext) -> int:
    async def paused() -> int:
        await asyncio.sleep(0.2)  # any await that is not a step: an async helper, a lock
        return int(await ctx.step.run("after-pause", effect, "after-pause", 7))

    _, value = await asyncio.gather(ctx.step.wait_for("nap", seconds=10), paused())
    return value


def test_a_replay_after_a_wake_up_does_not_race_the_replay_it_replaces(
    journal: Journal, clock: VirtualClock
) -> None:
    """A step body runs twice in one invocation, without any crash.

    Interleaving: replay 1 suspends (the nap branch blocks while the other branch is
    in a plain ``await``); just before the suspend write the nap's timer fires, its
    runner finds the lease busy and records a wake-up; the suspend is refused
    (``WokenUp``) and ``Invocation.run`` replays *in the same event loop*. Replay 1's
    tasks are still alive: its paused branch wakes up and runs 'after-pause' on the
    stale state, and replay 2 runs it again (its journal was loaded before). Fix:
    cancel (and await) every task of the previous replay before replaying, or run
    each replay in a fresh loop; and refuse new steps on a state once it is suspending.
    """
    hooked = Hooked(journal)
    h = Harness.build(hooked, clock, [pause_then_step])  # type: ignore[arg-type]
    handle = Client(h.app, h.journal, QueueInvoker(), clock=h.clock).invoke(pause_then_step)

    def timer_fires_during_the_suspension(*_: Any, **__: Any) -> None:
        h.clock.advance(seconds=10)
        for timer in h.timers.due(h.clock.now()):  # its runner finds the lease busy
            thread, box = in_thread(lambda t=timer: asyncio.run(h.engine.run(t.execution_id)))
            thread.join(10)
            assert box[0].status == "skipped"

    hooked.before["suspend_execution"] = timer_fires_during_the_suspension
    outcome = asyncio.run(h.engine.run(handle.id))
    assert outcome.status == "completed"
    assert CALLS["after-pause"] == 1, "one invocation ran the step body twice"


# --------------------------------------------------------------------------------------
# Lost wake-ups
# --------------------------------------------------------------------------------------


@workflow(id="attack-sleepy-child")
async def sleepy_child(ctx: WorkflowContext, n: int) -> int:
    await ctx.step.wait_for("long-nap", hours=1)
    return n


@workflow(id="attack-kids-and-nap")
async def kids_and_nap(ctx: WorkflowContext) -> list[Any]:
    async def nap() -> int:
        await ctx.step.wait_for("nap", seconds=10)
        return int(await ctx.step.run("after-nap", effect, "after-nap", 1))

    kids = ctx.step.batch_invoke_and_wait("kids", [(sleepy_child, i) for i in range(3)])
    return list(await asyncio.gather(kids, nap()))


def test_a_timer_whose_runner_found_the_lease_busy_is_not_lost(
    journal: Journal, clock: VirtualClock
) -> None:
    """A timer's wake-up is counted as one of the child reports the parent waits for.

    Setup: the parent waits on 3 children and on a 10 s nap (wake_need = seen + 3).
    Interleaving: at t+5 a stray invocation H replays (the nap is not due), schedules
    the nap (a no-op: its timer is still pending) and is about to write its
    suspension. The nap's timer fires: its runner R2 fails to take the lease (H holds
    it). H's suspension is written (no wake-up yet). R2 records its wake-up:
    wakeups = seen + 1 < wake_need, so ``needs_invocation`` is false and R2 returns
    'skipped'. The nap is due, nothing will invoke the parent until the sweeper looks
    at due_at = nap + TIMER_GRACE, a minute late (on AWS the one-time schedule has
    fired and deleted itself). Fix: in ``Engine._acquire``, when the wake-up's record
    shows the lease free (suspended / no owner), take the lease again regardless of
    ``needs_invocation``: a runner invocation is itself the reason to run.
    """
    hooked = Hooked(journal)
    h = Harness.build(hooked, clock, [kids_and_nap, sleepy_child])  # type: ignore[arg-type]
    handle = h.client.invoke(kids_and_nap)
    assert h.client.get_execution(handle.id).status is ExecutionStatus.SUSPENDED
    h.clock.advance(seconds=5)

    def r2_waits_for_the_suspension(*_: Any, **__: Any) -> None:
        arrived.set()
        give_up = time.monotonic() + 10
        while journal.get_execution(handle.id).status is not ExecutionStatus.SUSPENDED:
            assert time.monotonic() < give_up, "H never suspended"
            time.sleep(0.01)

    arrived = threading.Event()
    threads: list[tuple[threading.Thread, list[Any]]] = []

    def the_timer_fires(*_: Any, **__: Any) -> None:
        h.clock.advance(seconds=5)
        hooked.before["wake"] = r2_waits_for_the_suspension
        for timer in h.timers.due(h.clock.now()):
            threads.append(in_thread(lambda t=timer: asyncio.run(h.engine.run(t.execution_id))))
        assert arrived.wait(10), "the timer's runner never tried to record a wake-up"

    hooked.before["suspend_execution"] = the_timer_fires
    assert asyncio.run(h.engine.run(handle.id)).status == "suspended"  # H
    assert len(threads) == 1
    threads[0][0].join(10)
    h.advance(seconds=5)  # well past the nap, well before the sweeper's minute
    assert CALLS["after-nap"] == 1, (
        f"the nap's wake-up was lost: {threads[0][1]}, parent {h.client.get_execution(handle.id)}"
    )


# --------------------------------------------------------------------------------------
# Infrastructure errors that fail an execution, or stall it for a whole lease
# --------------------------------------------------------------------------------------


@workflow(id="attack-nap-then-step")
async def nap_then_step(ctx: WorkflowContext) -> int:
    await ctx.step.wait_for("nap", seconds=10)
    return int(await ctx.step.run("after", effect, "after", 5))


def _throttle_next_load(hooked: Hooked) -> None:
    def fail(*_: Any, **__: Any) -> None:
        raise throttled("Query")

    hooked.before["load_steps"] = fail


def test_a_throttled_journal_load_gives_the_lease_back(
    journal: Journal, clock: VirtualClock
) -> None:
    """``Engine.start`` takes the lease, then loads the journal outside any try: a
    throttled ``Query`` (after botocore's retries) fails the invocation with
    ``TransientInfrastructureError`` but leaves the lease held until the invocation's
    deadline. Lambda's retry of that invocation then finds the lease busy, records a
    wake-up and returns 'skipped' (a success, so Lambda stops retrying). The execution
    sits until the lease expires (up to the function timeout, 15 min) and the sweeper,
    and the failed attempt is then counted as a *dead invocation*. Fix: release the
    lease when anything between ``_acquire`` and ``Invocation.run`` raises (wrap
    ``note_dead_invocations`` and ``load_steps`` like ``Invocation.run`` does).
    """
    hooked = Hooked(journal)
    h = Harness.build(hooked, clock, [nap_then_step])  # type: ignore[arg-type]
    runner = Runner(h.engine)
    handle = Client(h.app, h.journal, QueueInvoker(), clock=h.clock).invoke(nap_then_step)
    assert runner({"execution_id": handle.id}, FakeLambdaContext())["status"] == "suspended"
    h.clock.advance(seconds=10)
    _throttle_next_load(hooked)
    with pytest.raises(TransientInfrastructureError):  # the timer's invocation
        runner({"execution_id": handle.id}, FakeLambdaContext())
    assert h.client.get_execution(handle.id).lease_owner is None, "the lease was kept"
    retried = runner({"execution_id": handle.id}, FakeLambdaContext())  # Lambda's retry
    assert retried["status"] == "completed", retried


def test_throttled_journal_loads_never_fail_the_execution(
    journal: Journal, clock: VirtualClock
) -> None:
    """The same fault three times: 'infrastructure errors never fail the execution by
    themselves' (semantics.md), yet each throttled load leaves its lease to expire,
    the sweeper's re-drive counts it as a dead invocation, and the fourth invocation,
    with DynamoDB healthy again, fails the execution with ``stepline:InvocationsDied``
    ("3 invocations died ... Lambda timeout, out of memory or a crashed process").
    A Lambda timeout between a lease and its release is counted the same way, and
    ``_release`` is best effort: a throttled release does the same. Same fix as above.
    """
    hooked = Hooked(journal)
    h = Harness.build(hooked, clock, [nap_then_step])  # type: ignore[arg-type]
    runner = Runner(h.engine)

    class LambdaAsync:  # an Event invocation: its error goes to Lambda, not the caller
        def invoke_async(self, execution_id: str) -> None:
            try:
                runner({"execution_id": execution_id}, FakeLambdaContext())
            except TransientInfrastructureError:
                pass

    lam = LambdaAsync()
    sweeper = Sweeper(h.journal, lam, h.clock)
    handle = Client(h.app, h.journal, QueueInvoker(), clock=h.clock).invoke(nap_then_step)
    lam.invoke_async(handle.id)  # records the nap, suspends
    h.clock.advance(seconds=10)
    _throttle_next_load(hooked)
    lam.invoke_async(handle.id)  # the timer's invocation: one throttled Query...
    lam.invoke_async(handle.id)  # ...and Lambda's retry of it is skipped (lease busy)
    for _ in range(2):
        h.clock.advance(minutes=2)  # the lease (60 s) expired; the sweeper re-drives
        _throttle_next_load(hooked)
        sweeper.sweep()  # counted as a dead invocation; throttled once more...
        lam.invoke_async(handle.id)  # ...and its retry is skipped again
    h.clock.advance(minutes=2)
    sweeper.sweep()  # DynamoDB is fine again: this invocation runs (3 "dead" counted)
    final = h.client.get_execution(handle.id)
    assert final.error is None or final.error.type != DIED_TYPE, final.error
    assert final.status is ExecutionStatus.COMPLETED


@workflow(id="attack-one-step")
async def one_step(ctx: WorkflowContext, n: int) -> int:
    return int(await ctx.step.run("once", effect, "once", n))


def test_after_a_crash_the_execution_resumes_once_the_dead_attempts_lease_expires(
    harness: Build,
) -> None:
    """A runner process killed mid-step (out of memory, ``Runtime.ExitError``): Lambda
    retries the event about a minute later, with the same request id. A duplicate delivery
    of that event may be running too, so the retry cannot tell a dead holder from a live
    one: it records a wake-up and leaves. The dead attempt's lease holds until its own
    deadline (the runner's timeout; DESIGN section 3); then the sweeper re-drives the
    execution, the next invocation takes over and counts the dead one, and the step runs
    again (steps are at-least-once). The price is latency: up to the runner's timeout
    plus a sweep. (The review asked for a heartbeat lease instead; declined: it costs a
    write per interval per running invocation and the design fixes the expiry.)
    """
    h = harness(one_step)
    handle = Client(h.app, h.journal, QueueInvoker(), clock=h.clock).invoke(one_step, 3)
    # The first attempt takes the lease for its 15 minutes, starts the step and dies.
    dying = h.engine.start(
        handle.id, deadline=h.clock.now() + timedelta(minutes=15), owner="req-1/0123456789ab"
    )
    assert not isinstance(dying, Outcome)  # it holds the lease
    h.clock.advance(minutes=1)
    runner = Runner(h.engine)
    retry = runner({"execution_id": handle.id}, FakeLambdaContext(aws_request_id="req-1"))
    assert retry["status"] == "skipped" and "wake-up recorded" in retry["detail"]
    h.advance(minutes=15)  # the sweeper finds the lease expired and re-drives it
    done = h.journal.get_execution(handle.id)
    assert (done.status, done.dead_invocations) == (ExecutionStatus.COMPLETED, 1)


# --------------------------------------------------------------------------------------
# DynamoDB only: items written by the release before this change
# --------------------------------------------------------------------------------------


class ReplayLoop(BaseException):  # noqa: N818 - stops the test's runaway invocation
    pass


def test_an_execution_item_from_before_the_change_can_suspend(
    dynamodb_client: Any, clock: VirtualClock
) -> None:
    """An infinite replay loop in one invocation, on an upgraded table.

    Items written by the previous release (a0892d1) have no ``wakeups`` attribute. The
    suspension's condition ``wakeups = :seen`` (seen = 0, from ``from_item``'s default)
    is then false forever; ``_explain_refusal`` finds the lease ours and no cancel and
    raises ``WokenUp(0)``; the invocation reloads, replays and tries again, forever
    (with no deadline), or until its deadline and then again in every re-invocation.
    Every execution in flight during the deploy spins. The memory journal cannot show
    this (it has no missing attributes). Fix: ``acquire_lease`` sets
    ``wakeups = if_not_exists(wakeups, :zero)`` (and ``wake_need``), and
    ``_explain_refusal`` must not raise ``WokenUp`` when the count it reads equals
    ``seen`` (something else refused the write).
    """
    inner = DynamoJournal(dynamodb_client, TABLE)
    hooked = Hooked(inner)
    h = Harness.build(hooked, clock, [nap_then_step])  # type: ignore[arg-type]
    handle = Client(h.app, h.journal, QueueInvoker(), clock=h.clock).invoke(nap_then_step)
    dynamodb_client.update_item(  # as the previous release wrote it
        TableName=TABLE,
        Key={"pk": {"S": handle.id}, "sk": {"S": "#execution"}},
        UpdateExpression="REMOVE wakeups, wake_need, sweep, due_at",
    )
    loads = 0
    real_load = inner.load_steps

    def counting_load(execution_id: str) -> Any:
        nonlocal loads
        loads += 1
        if loads > 20:
            raise ReplayLoop(f"{loads} journal loads in one invocation")
        return real_load(execution_id)

    inner.load_steps = counting_load  # type: ignore[method-assign]
    try:
        outcome = asyncio.run(h.engine.run(handle.id))
    except ReplayLoop as loop:
        pytest.fail(f"the invocation never suspends: {loop}")
    assert outcome.status == "suspended"


# --------------------------------------------------------------------------------------
# The test harness: moto's conditional writes under threads
# --------------------------------------------------------------------------------------


def test_two_invocations_never_both_take_the_lease(journal: Journal, clock: VirtualClock) -> None:
    """semantics.md says the [dynamodb] tests run on moto 'whose writes the harness
    serialises so conditional writes are atomic as on AWS'. Nothing in conftest.py
    serialises them: under threads, moto evaluates a condition and applies the update
    non-atomically, so several ``acquire_lease`` calls win at once. Every threaded
    [dynamodb] test (gated steps on background threads) therefore runs on a store
    weaker than DynamoDB: it can fail for moto's reasons or pass by luck, and it cannot
    show a lease race faithfully. Fix: wrap the moto client in the fixture so each call
    holds one lock (as the document says), and keep this test as its guard.
    """
    now = clock.now()
    doubles = []
    for trial in range(20):
        execution_id = f"race-{trial}"
        journal.create_execution(ExecutionRecord(execution_id, "wf", ExecutionStatus.PENDING, now))
        barrier = threading.Barrier(8)
        winners: list[int] = []

        def take(
            i: int,
            execution_id: str = execution_id,
            barrier: threading.Barrier = barrier,
            winners: list[int] = winners,
        ) -> None:
            barrier.wait()
            try:
                journal.acquire_lease(
                    execution_id, owner=f"owner-{i}", now=now, expires_at=now + timedelta(minutes=1)
                )
            except Exception:  # noqa: BLE001 - refused
                return
            winners.append(i)

        threads = [threading.Thread(target=take, args=(i,)) for i in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if len(winners) != 1:
            doubles.append((execution_id, winners))
    assert not doubles, f"several invocations held one lease at once: {doubles}"


# --------------------------------------------------------------------------------------
# Attacks that held (they pass; kept as regression tests of paths nothing else covers)
# --------------------------------------------------------------------------------------


def test_a_suspend_retried_after_another_invocation_took_over_is_a_lost_lease(
    journal: Journal, clock: VirtualClock
) -> None:
    """The suspend's first attempt is applied, its response lost; before botocore's retry
    a child reports, the parent is invoked and B takes the lease. A's retry must be
    'lease lost', not 'applied' (its own ``closed_by`` is still on the item)."""
    now = clock.now()
    journal.create_execution(ExecutionRecord("p", "wf", ExecutionStatus.PENDING, now))
    later = now + timedelta(minutes=1)
    journal.acquire_lease("p", owner="A", now=now, expires_at=later)
    journal.suspend_execution("p", owner="A", seen_wakeups=0, wake_need=1, due_at=None)
    assert journal.wake("p").needs_invocation
    journal.acquire_lease("p", owner="B", now=now, expires_at=later)
    with pytest.raises(LeaseLost):
        journal.suspend_execution("p", owner="A", seen_wakeups=0, wake_need=1, due_at=None)
    with pytest.raises(LeaseLost):
        journal.finish_execution("p", owner="A", status=ExecutionStatus.SUSPENDED, now=now)
    assert journal.get_execution("p").lease_owner == "B"


@workflow(id="attack-two-kids")
async def two_kids(ctx: WorkflowContext) -> list[Any]:
    return list(await ctx.step.batch_invoke_and_wait("kids", [(one_step, 1), (one_step, 2)]))


def test_a_duplicate_report_neither_releases_the_parent_early_nor_loses_the_last_one(
    harness: Build,
) -> None:
    """Child 0's outcome is delivered three times (its invocation, the sweeper, the
    failure destination racing); the extra wake-ups reach wake_need and invoke the
    parent early: it must suspend again needing child 1 only, and child 1's report must
    then invoke it."""
    h = harness(two_kids, one_step)
    queue = QueueInvoker()
    h.engine.invoker = queue
    handle = Client(h.app, h.journal, queue, clock=h.clock).invoke(two_kids)
    parent_id = queue.started.pop(0)
    asyncio.run(h.engine.run(parent_id))
    kid0, kid1 = list(queue.started)
    queue.started.clear()
    asyncio.run(h.engine.run(kid0))  # delivered once by its own invocation
    for _ in range(2):
        deliver_outcome(h.journal, queue, h.journal.get_execution(kid0), now=h.clock.now())
    while queue.started:
        assert asyncio.run(h.engine.run(queue.started.pop(0))).status == "suspended"
    asyncio.run(h.engine.run(kid1))
    assert queue.started == [parent_id]
    asyncio.run(h.engine.run(queue.started.pop(0)))
    assert handle.result(timeout=1) == [1, 2]


def test_a_sweep_at_the_exact_instant_the_lease_expires_still_re_drives_it(
    harness: Build,
) -> None:
    """Clock edge: a lease is free only when ``lease_expires < now``, so the execution
    is due for the sweeper a second after its lease expires, never at the instant: the
    sweep at expiry leaves it alone, the next one re-drives it."""
    h = harness(one_step)
    queue = QueueInvoker()
    handle = Client(h.app, h.journal, queue, clock=h.clock).invoke(one_step, 4)
    expiry = h.clock.now() + timedelta(minutes=1)
    h.engine.start(handle.id, deadline=expiry, owner="dies")  # and dies
    h.clock.advance(minutes=1)
    sweeper = Sweeper(h.journal, h.invoker, h.clock)
    assert sweeper.sweep().redriven == 0
    assert h.client.get_execution(handle.id).status is ExecutionStatus.RUNNING
    h.advance(minutes=1)
    assert handle.result(timeout=1) == 4
    assert h.client.get_execution(handle.id).dead_invocations == 1
