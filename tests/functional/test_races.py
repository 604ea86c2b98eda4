"""Races that happen on AWS, made to happen: duplicate and concurrent invocations,
a lease that expires under a live invocation, an invocation dying mid-step."""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from handlers.runner import Runner
from sdk import (
    App,
    Client,
    Engine,
    ExecutionStatus,
    SystemClock,
    VirtualClock,
    WorkflowContext,
    workflow,
)
from sdk.journal import Journal
from sdk.journal.schema import table_definition
from sdk.sweeper import Sweeper
from tests import crash_worker
from tests.support import (
    CALLS,
    TABLE,
    FakeLambdaContext,
    Harness,
    QueueInvoker,
    RunnerInvoker,
    effect,
)

Build = Callable[..., Harness]


class Gate:
    """Holds the first call of a step until the test opens it."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.opened = threading.Event()

    def hold_first(self, name: str) -> str:
        CALLS[name] += 1
        if CALLS[name] == 1:
            self.entered.set()
            assert self.opened.wait(timeout=10), "the test never opened the gate"
        return f"{name} by call {CALLS[name]}"


GATES: dict[str, Gate] = {}


@workflow(id="gated")
async def gated(ctx: WorkflowContext) -> list[str]:
    first = await ctx.step.run("first", GATES["gate"].hold_first, "first")
    second = await ctx.step.run("second", effect, "second", "two")
    return [first, second]


def runner_for(journal: Journal, clock: VirtualClock, *workflows: Any) -> tuple[Runner, Client]:
    app = App(workflows)
    client = Client(app, journal, QueueInvoker(), clock=clock)
    return Runner(Engine(app, journal, clock)), client


def gated_invocation_in_background(
    journal: Journal, clock: VirtualClock, context: FakeLambdaContext
) -> tuple[Runner, Client, Gate, threading.Thread, dict[str, Any]]:
    """Start ``gated`` and run its first invocation on a thread, held inside its first step."""
    GATES["gate"] = gate = Gate()
    runner, client = runner_for(journal, clock, gated)
    handle = client.invoke(gated)
    outcome: dict[str, Any] = {"execution_id": handle.id}
    thread = threading.Thread(
        target=lambda: outcome.update(first=runner({"execution_id": handle.id}, context))
    )
    thread.start()
    assert gate.entered.wait(timeout=10)
    return runner, client, gate, thread, outcome


def test_a_second_concurrent_invocation_exits_cleanly(
    journal: Journal, clock: VirtualClock
) -> None:
    runner, _, gate, winner, outcome = gated_invocation_in_background(
        journal, clock, FakeLambdaContext()
    )
    event = {"execution_id": outcome["execution_id"]}
    loser = runner(event, FakeLambdaContext())  # arrives while the first one is mid-step
    gate.opened.set()
    winner.join(timeout=10)
    assert loser["status"] == "skipped" and "being run by another invocation" in loser["detail"]
    assert outcome["first"]["status"] == "completed"
    assert CALLS == {"first": 1, "second": 1}
    assert sorted(journal.load_steps(event["execution_id"])) == ["first", "second"]


def test_an_invocation_whose_lease_expired_cannot_record_a_second_outcome(
    journal: Journal, clock: VirtualClock
) -> None:
    runner, client, gate, stale, outcome = gated_invocation_in_background(
        journal, clock, FakeLambdaContext(remaining_ms=10_000)
    )
    execution_id = outcome["execution_id"]
    clock.advance(seconds=11)  # the first invocation's deadline has passed: it is presumed dead
    fresh = runner({"execution_id": execution_id}, FakeLambdaContext())
    gate.opened.set()  # ...but it was only slow, and now carries on
    stale.join(timeout=10)
    assert fresh["status"] == "completed"
    assert outcome["first"]["status"] == "lease_lost"
    steps = journal.load_steps(execution_id)
    assert steps["first"].output == '"first by call 2"'  # the fresh invocation's record stands
    record = client.get_execution(execution_id)
    assert record.status is ExecutionStatus.COMPLETED
    assert client.output_of(record) == ["first by call 2", "two"]


def test_starting_the_same_execution_id_twice_makes_one_execution(harness: Build) -> None:
    h = harness(gated)
    GATES["gate"] = gate = Gate()
    gate.opened.set()
    first = h.client.invoke(gated, execution_id="order-77")
    second = h.client.invoke(gated, execution_id="order-77")  # a duplicate delivery
    assert first.id == second.id == "order-77"
    assert second.result(timeout=5) == ["first by call 1", "two"]
    assert CALLS == {"first": 1, "second": 1}
    assert len(h.client.list_executions()) == 1


class SimulatedLambdaTimeout(BaseException):
    """What the runner sees when its invocation is torn down mid-step."""


CRASH = {"at": ""}


def crash_once(name: str, value: int) -> int:
    CALLS[name] += 1
    if name == CRASH["at"] and CALLS[name] == 1:
        raise SimulatedLambdaTimeout(f"killed during {name}")
    return value


@workflow(id="ten-steps-crashing")
async def ten_steps_crashing(ctx: WorkflowContext) -> int:
    total = 0
    for i in range(1, 11):
        total += await ctx.step.run(f"step-{i}", crash_once, f"step-{i}", i)
    return total


def test_an_exception_escaping_the_runner_mid_step_is_recovered_by_the_next_invocation(
    journal: Journal, clock: VirtualClock
) -> None:
    CRASH["at"] = "step-5"
    runner, client = runner_for(journal, clock, ten_steps_crashing)
    handle = client.invoke(ten_steps_crashing)
    with pytest.raises(SimulatedLambdaTimeout):
        runner({"execution_id": handle.id}, FakeLambdaContext())
    assert sorted(journal.load_steps(handle.id)) == [f"step-{i}" for i in (1, 2, 3, 4)]
    assert runner({"execution_id": handle.id}, FakeLambdaContext())["status"] == "completed"
    assert client.handle(handle.id).result(timeout=5) == 55
    assert CALLS == {f"step-{i}": 2 if i == 5 else 1 for i in range(1, 11)}


@pytest.fixture
def moto_endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    client = boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1")
    client.create_table(**table_definition(TABLE))
    yield endpoint
    client.delete_table(TableName=TABLE)  # moto's state outlives the server in this process
    server.stop()


@pytest.mark.slow
def test_a_runner_killed_with_sigkill_mid_step_is_completed_by_the_next_invocation(
    moto_endpoint: str, tmp_path: Path
) -> None:
    journal = crash_worker.dynamo_journal(moto_endpoint)
    app = App([crash_worker.ten_logged_steps])
    client = Client(app, journal, QueueInvoker())
    log = tmp_path / "effects.log"
    handle = client.invoke("ten-logged-steps", str(log))

    spawn = multiprocessing.get_context("spawn")
    reached = spawn.Event()
    worker = spawn.Process(
        target=crash_worker.run_until_killed,
        args=(moto_endpoint, handle.id, "step-5", reached, "event-1"),
    )
    worker.start()
    try:
        assert reached.wait(timeout=60), "the worker never reached step 5"
        os.kill(worker.pid or 0, signal.SIGKILL)
    finally:
        worker.join(timeout=30)
    assert worker.exitcode == -signal.SIGKILL
    assert client.get_execution(handle.id).status is ExecutionStatus.RUNNING  # lease still held

    # Any other invocation, Lambda's retry of the same event included (a duplicate
    # delivery of it may still be running), waits out the dead invocation's lease...
    runner = Runner(Engine(app, journal))
    for request_id in ("event-2", "event-1"):
        other = runner({"execution_id": handle.id}, FakeLambdaContext(aws_request_id=request_id))
        assert other["status"] == "skipped" and "wake-up recorded" in other["detail"]
    # ...which ends at that invocation's deadline; then the sweeper re-drives it.
    later = VirtualClock(SystemClock().now() + timedelta(seconds=901))
    runner = Runner(Engine(app, journal, later))
    Sweeper(journal, RunnerInvoker(runner), later).sweep()
    assert client.handle(handle.id).result(timeout=5) == 55
    assert journal.get_execution(handle.id).dead_invocations == 1
    # Steps 1-4 ran once; step 5 ran in the killed invocation and again; 6-10 once.
    expected = [f"step-{i}" for i in (1, 2, 3, 4, 5, 5, 6, 7, 8, 9, 10)]
    assert log.read_text().split() == expected
