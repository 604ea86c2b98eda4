"""The fault campaign: workflows with waits, children, ``gather`` and time limits, run to the
end on DynamoDB in moto while AWS misbehaves, from 50 seeds.

Per seed: 10% of the engine's AWS requests fail (half of them writes applied whose response
was lost, the rest throttling, 5xx and dropped connections), every asynchronous invocation
is delivered twice with one request id, a few invocations are killed at a random request,
and runners get 6 or 60 seconds. Time is virtual: when nothing is queued, the clock moves a
minute, due timers fire and the sweeper runs. Every execution must end in its right
terminal state, with each step recorded once and no step body run more often than once plus
the crashes of its execution.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from moto import mock_aws

from handlers.failures import FailureRecorder
from handlers.runner import Runner
from local_emulator.dynamodb import serialize_writes
from sdk import App, Client, Engine, TerminalError, VirtualClock, WorkflowContext, workflow
from sdk.client import Invoker
from sdk.engine import DIED_TYPE
from sdk.journal.dynamodb import DynamoJournal, client_config
from sdk.journal.schema import table_definition
from sdk.sweeper import Sweeper
from sdk.timers import ManualTimers
from tests.campaign import CampaignReport, CampaignSettings, run_campaign
from tests.faults import FaultKind

TABLE = "stepline-campaign"
SEEDS = range(50)
CLOCK: list[VirtualClock] = []
RUNS: Counter[tuple[str, str]] = Counter()  # (execution id, step key) -> bodies run


def work(execution_id: str, key: str, value: int) -> int:
    """A step body that takes a second of (virtual) time and counts its runs."""
    RUNS[execution_id, key] += 1
    CLOCK[0].advance(seconds=1)
    return value


def refuse(execution_id: str, key: str) -> None:
    RUNS[execution_id, key] += 1
    raise TerminalError("refused")


@workflow(id="c-chain")
async def chain(ctx: WorkflowContext, n: int) -> int:
    total = 0
    for i in range(n):
        total += await ctx.step.run(f"s{i}", work, ctx.execution_id, f"s{i}", i)
    return total


@workflow(id="c-napper")
async def napper(ctx: WorkflowContext, n: int) -> int:
    first = await ctx.step.run("before", work, ctx.execution_id, "before", n)
    await ctx.step.wait_for("nap", seconds=90)
    return first + await ctx.step.run("after", work, ctx.execution_id, "after", n)


@workflow(id="c-child")
async def child(ctx: WorkflowContext, n: int) -> int:
    return int(await ctx.step.run("double", work, ctx.execution_id, "double", 2 * n))


@workflow(id="c-parent")
async def parent(ctx: WorkflowContext, n: int) -> int:
    import asyncio

    one, side = await asyncio.gather(
        ctx.step.invoke_and_wait("one", child, n),
        ctx.step.run("side", work, ctx.execution_id, "side", 1),
    )
    many = await ctx.step.batch_invoke_and_wait("many", [(child, n + i) for i in range(3)])
    return int(one + side + sum(many))


@workflow(id="c-refused")
async def refused(ctx: WorkflowContext, n: int) -> None:
    await ctx.step.run("ok", work, ctx.execution_id, "ok", n)
    await ctx.step.run("no", refuse, ctx.execution_id, "no")


APP = App([chain, napper, child, parent, refused])
STARTS: list[tuple[Any, int, str, Any]] = [  # workflow, input, final status, output
    (chain, 8, "completed", sum(range(8))),
    (napper, 5, "completed", 10),
    (parent, 2, "completed", 4 + 1 + 4 + 6 + 8),
    (refused, 1, "failed", None),
]
EXPECTED_STEPS = {
    "c-chain": {f"s{i}" for i in range(8)},
    "c-napper": {"before", "nap", "after"},
    "c-parent": {"one", "side", "many", *(f"many\x1f{i}" for i in range(3))},
    "c-refused": {"ok", "no"},
    "c-child": {"double"},
}


def _campaign(seed: int) -> tuple[CampaignReport, DynamoJournal, list[str]]:
    serialize_writes()  # conditional writes atomic, as on AWS
    clock = VirtualClock()
    CLOCK[:] = [clock]
    dynamodb = boto3.client("dynamodb", region_name="us-east-1", config=client_config())
    dynamodb.create_table(**table_definition(TABLE))
    journal = DynamoJournal(dynamodb, TABLE)
    timers = ManualTimers()
    parts: dict[str, Any] = {}

    def build_runner(invoker: Invoker) -> Runner:
        engine = Engine(APP, journal, clock, timers=timers, invoker=invoker)
        parts["invoker"] = invoker
        parts["sweeper"] = Sweeper(journal, invoker, clock)
        return Runner(engine, invoker)

    def on_quiet(invoker: Invoker) -> bool:
        """What a minute of real time does: due timers fire, the sweeper runs."""
        clock.advance(minutes=1)
        for timer in timers.due(clock.now()):
            invoker.invoke_async(timer.execution_id)
        parts["sweeper"].sweep()
        unfinished = [e for e in started if not journal.get_execution(e).status.finished]
        return bool(unfinished)

    started: list[str] = []

    def start(wf: Any, data: int) -> Callable[[Invoker], str]:
        def go(invoker: Invoker) -> str:
            execution_id = Client(APP, journal, invoker, clock=clock).invoke(wf, data).id
            started.append(execution_id)
            return execution_id

        return go

    lost = FaultKind.LOST_RESPONSE
    settings = CampaignSettings(
        fault_rate=0.1,
        fault_kinds=(lost, lost, lost, FaultKind.THROTTLE, FaultKind.SERVER_ERROR,
                     FaultKind.CONNECTION_ERROR),  # fmt: skip
        duplicate_rate=1.0,
        kill_rate=0.03,
        remaining_ms=lambda rng: rng.choice([6_000, 60_000]),
        max_quiet_rounds=60,
    )
    return run_campaign(
        seed,
        [start(wf, data) for wf, data, _, _ in STARTS],
        clients=[dynamodb],
        build_runner=build_runner,
        build_destination=lambda: FailureRecorder(journal, parts["invoker"], clock),
        read_status=lambda eid: journal.get_execution(eid).status.value,
        on_quiet=on_quiet,
        settings=settings,
    ), journal, started


def _crashes(report: CampaignReport) -> Counter[str]:
    """Killed or failed attempts, by execution."""
    crashed: Counter[str] = Counter()
    for delivery in report.lambda_model.deliveries:
        payload = delivery.payload if isinstance(delivery.payload, dict) else {}
        if delivery.outcome != "ok" and "execution_id" in payload:
            crashed[payload["execution_id"]] += 1
    return crashed


@pytest.mark.parametrize("seed", SEEDS)
def test_every_execution_ends_right_under_faults_duplicates_and_crashes(seed: int) -> None:
    RUNS.clear()
    with mock_aws():
        report, journal, started = _campaign(seed)
        crashed = _crashes(report)
        executions = {e.execution_id: e for e in journal.list_executions(limit=1000)}
        steps = {eid: journal.load_steps(eid) for eid in executions}
    summary = report.summary()
    assert report.faults.by_kind().get(FaultKind.LOST_RESPONSE, 0) > 0, summary
    for execution_id, (wf, _, status, output) in zip(started, STARTS, strict=True):
        record = executions[execution_id]
        if record.error is not None and record.error.type == DIED_TYPE:
            assert crashed[execution_id] >= 3, summary  # died three times: failed, rightly
            continue
        assert record.status.value == status, (wf.id, record.error, summary)
        if output is not None:
            assert record.output == str(output), (wf.id, record.output)
    for execution_id, record in executions.items():
        assert record.status.finished, (record, summary)  # nothing pending/running/suspended
        if record.status.value == "completed":  # (bookkeeping records may or may not be there)
            recorded = {key for key, step in steps[execution_id].items() if not step.bookkeeping}
            assert recorded == EXPECTED_STEPS[record.workflow_id]
    for (execution_id, key), runs in RUNS.items():
        assert runs <= 1 + crashed[execution_id], (execution_id, key, runs, summary)


def test_the_campaign_really_injects_every_kind_of_fault() -> None:
    RUNS.clear()
    kinds: Counter[FaultKind] = Counter()
    for seed in random.Random(7).sample(list(SEEDS), 3):
        with mock_aws():
            report, _, _ = _campaign(seed)
        kinds.update(report.faults.by_kind())
    assert set(kinds) >= {FaultKind.LOST_RESPONSE, FaultKind.THROTTLE,
                          FaultKind.SERVER_ERROR, FaultKind.CONNECTION_ERROR}  # fmt: skip
    assert kinds[FaultKind.LOST_RESPONSE] >= sum(kinds.values()) / 3
