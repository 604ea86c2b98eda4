"""Schedule ticks on DynamoDB in moto under the faults AWS produces: a write applied whose
response was lost, a tick delivered twice at once, an invocation killed at each of its
requests, a schedule deleted while a tick is in flight, throttling. Each time: exactly one
execution per nominal time, invoked, and the schedule's state in step with it."""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from sdk import SchedulePayload, VirtualClock, WorkflowContext, workflow
from sdk.app import App
from sdk.journal.dynamodb import DynamoJournal, client_config
from sdk.journal.records import ExecutionRecord
from sdk.schedules.dynamodb_store import DynamoScheduleStore
from sdk.schedules.records import ScheduleRecord
from sdk.schedules.store import TickWrite
from sdk.schedules.ticks import Ticker, TickOutcome, TickRequest, tick_execution_id
from tests.faults import (
    FaultInjector,
    FaultKind,
    InvocationKilled,
    KillSwitch,
    armed,
    skip_backoff,
)
from tests.support import TABLE, QueueInvoker

T0 = datetime(2030, 1, 7, 8, 0, tzinfo=UTC)


@workflow(id="fault-tick", schedule={"cron": "* * * * *", "overlap": "allow"})
async def fault_tick(ctx: WorkflowContext, tick: SchedulePayload) -> str:
    return tick.timestamp.isoformat()


@workflow(id="fault-skip", schedule="* * * * *")
async def fault_skip(ctx: WorkflowContext, tick: SchedulePayload) -> str:
    return tick.timestamp.isoformat()


APP = App([fault_tick, fault_skip])


@pytest.fixture
def client(dynamodb_client: Any) -> Iterator[Any]:
    """A journal client of its own (standard retries), on the table of ``dynamodb_client``."""
    yield boto3.client("dynamodb", region_name="us-east-1", config=client_config())


def make(client: Any, invoker: QueueInvoker | None = None) -> tuple[Ticker, QueueInvoker]:
    invoker = invoker or QueueInvoker()
    clock = VirtualClock(T0 - timedelta(days=1))
    return Ticker(APP, DynamoJournal(client, TABLE), invoker, clock), invoker


def request(workflow_id: str, minutes: int = 0) -> TickRequest:
    return TickRequest(workflow_id, "default", T0 + timedelta(minutes=minutes))


def executions(ticker: Ticker, workflow_id: str) -> list[str]:
    found = ticker.journal.list_executions(workflow_id=workflow_id)
    return sorted(r.execution_id for r in found)


def test_a_tick_whose_write_was_applied_but_whose_response_was_lost_starts_once(
    client: Any,
) -> None:
    ticker, invoker = make(client)
    lost = FaultInjector(
        random.Random(1), 1.0, [FaultKind.LOST_RESPONSE], operations={"TransactWriteItems"},
        faults_per_call=1,
    )  # fmt: skip
    lost.attach(client)
    with skip_backoff():
        results = [ticker.tick(request("fault-tick", m)) for m in range(3)]
    assert len(lost.log) == 3  # every tick's write was applied and its answer lost
    assert {r.outcome for r in results} <= {TickOutcome.STARTED, TickOutcome.DUPLICATE}
    ids = [tick_execution_id("fault-tick", "default", T0 + timedelta(minutes=m)) for m in range(3)]
    assert executions(ticker, "fault-tick") == sorted(ids)
    assert sorted(set(invoker.started)) == sorted(ids)  # each one invoked
    record = ticker.store.get("fault-tick:default")
    assert record is not None and record.last_timestamp == T0 + timedelta(minutes=2)


def test_a_tick_delivered_eight_times_at_once_starts_one_execution(
    client: Any, moto_race_window: None
) -> None:
    ticker, invoker = make(client)
    outcomes: list[TickOutcome] = []
    gate = threading.Barrier(8)

    def deliver() -> None:
        gate.wait()
        outcomes.append(ticker.tick(request("fault-tick")).outcome)

    threads = [threading.Thread(target=deliver) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes).count(TickOutcome.STARTED) == 1
    assert set(outcomes) <= {TickOutcome.STARTED, TickOutcome.DUPLICATE}
    assert executions(ticker, "fault-tick") == [
        tick_execution_id("fault-tick", "default", T0)
    ]


def test_two_ticks_racing_over_one_overlap_skip_schedule_start_one_and_record_one_skip(
    client: Any, moto_race_window: None
) -> None:
    ticker, _ = make(client)
    outcomes: list[TickOutcome] = []
    gate = threading.Barrier(2)

    def deliver(minutes: int) -> None:
        gate.wait()
        outcomes.append(ticker.tick(request("fault-skip", minutes)).outcome)

    threads = [threading.Thread(target=deliver, args=(m,)) for m in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == sorted([TickOutcome.STARTED, TickOutcome.SKIPPED])
    assert len(executions(ticker, "fault-skip")) == 1
    record = ticker.store.get("fault-skip:default")
    assert record is not None and record.skipped == 1


@pytest.mark.parametrize("apply_fatal", [False, True], ids=["not-applied", "applied"])
def test_a_tick_killed_at_any_request_then_retried_starts_one_execution(
    client: Any, apply_fatal: bool
) -> None:
    """Scheduler retries a tick whose invocation died: wherever it died, the retry leaves
    one execution, invoked, and the schedule's last timestamp at that tick."""
    ticker, invoker = make(client)
    injector = FaultInjector(random.Random(0), 0.0)  # counts requests for the kill switch
    injector.attach(client)
    died_at = []
    for die_at in range(1, 8):
        tick = request("fault-tick", die_at)
        switch = KillSwitch(die_at, apply_fatal=apply_fatal)
        with armed(switch):
            try:
                ticker.tick(tick)
            except InvocationKilled:
                died_at.append(die_at)
        retried = ticker.tick(tick)
        assert retried.outcome in (TickOutcome.STARTED, TickOutcome.DUPLICATE)
        assert invoker.started[-1] == retried.execution_id
        record = ticker.store.get("fault-tick:default")
        assert record is not None and record.last_timestamp == tick.scheduled_time
    assert died_at  # the switch did cut ticks short
    assert len(executions(ticker, "fault-tick")) == 7


class DeletedInFlight:
    """The real store, with the schedule deleted after the tick read it and before it writes
    (as ``client.schedules.delete`` running at that moment would)."""

    def __init__(self, store: DynamoScheduleStore) -> None:
        self.store = store

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)

    def start_tick(
        self, record: ScheduleRecord, *, expected_version: int, execution: ExecutionRecord
    ) -> TickWrite:
        self.store.delete(record.schedule_id)
        return self.store.start_tick(
            record, expected_version=expected_version, execution=execution
        )


def test_a_runtime_schedule_deleted_while_its_tick_is_in_flight_starts_nothing(
    client: Any,
) -> None:
    from sdk.schedules.manager import Schedules

    journal = DynamoJournal(client, TABLE)
    schedules = Schedules(APP, journal, clock=VirtualClock(T0))
    runtime = schedules.create(fault_tick, "0 9 * * *", key="k")
    invoker = QueueInvoker()
    store = DeletedInFlight(DynamoScheduleStore(journal))
    ticker = Ticker(APP, journal, invoker, VirtualClock(T0), store=store)  # type: ignore[arg-type]
    tick = TickRequest("fault-tick", "k", T0, runtime.record.generation)
    assert ticker.tick(tick).outcome is TickOutcome.GONE
    assert executions(ticker, "fault-tick") == [] and invoker.started == []


def test_throttled_ticks_are_retried_by_botocore_and_each_starts_once(client: Any) -> None:
    ticker, invoker = make(client)
    FaultInjector(random.Random(5), 0.5, [FaultKind.THROTTLE], faults_per_call=2).attach(client)
    with skip_backoff():
        results = [ticker.tick(request("fault-tick", m)) for m in range(10)]
    assert [r.outcome for r in results] == [TickOutcome.STARTED] * 10
    assert len(executions(ticker, "fault-tick")) == 10
    assert len(invoker.started) == 10
