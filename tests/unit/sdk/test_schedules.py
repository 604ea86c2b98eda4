"""Schedule ticks and ``client.schedules``, on both journals: one execution per nominal time,
overlap skips recorded where a user sees them, runtime schedules managed with clear errors."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from sdk import SchedulePayload, WorkflowContext, workflow
from sdk.errors import (
    InvalidScheduleError,
    ScheduleConflictError,
    ScheduleNotFoundError,
    WorkflowNotFoundError,
)
from sdk.journal.records import ExecutionStatus
from sdk.schedules.ticks import Ticker, TickOutcome, TickRequest, tick_execution_id
from tests.apps.schedules import no_input, takes_orders, ticked, weekday_report
from tests.support import Harness, QueueInvoker

NINE = datetime(2030, 1, 7, 8, 0, tzinfo=UTC)  # Monday 09:00 in Paris (winter time)


@workflow(id="long-tick", schedule={"cron": "*/10 * * * *", "key": "ten"})
async def long_tick(ctx: WorkflowContext, tick: SchedulePayload) -> str:
    await ctx.step.wait_for("work", minutes=25)
    return tick.timestamp.isoformat()


@workflow(id="allowed-tick", schedule={"cron": "*/10 * * * *", "overlap": "allow"})
async def allowed_tick(ctx: WorkflowContext, tick: SchedulePayload) -> str:
    await ctx.step.wait_for("work", minutes=25)
    return tick.timestamp.isoformat()


WORKFLOWS = (weekday_report, ticked, no_input, takes_orders, long_tick, allowed_tick)


@pytest.fixture
def h(harness: Callable[..., Harness]) -> Harness:
    built = harness(*WORKFLOWS)
    built.clock.advance(days=3)  # 2030-01-04, before every tick below
    return built


def ticker(h: Harness, invoker: Any = None) -> Ticker:
    return Ticker(h.app, h.journal, h.invoker if invoker is None else invoker, h.clock)


def output(h: Harness, execution_id: str) -> Any:
    return json.loads(h.journal.get_execution(execution_id).output or "null")


def test_a_declared_tick_starts_one_execution_with_its_nominal_time(h: Harness) -> None:
    h.clock.advance(days=10)  # processed long after it was due: the payload says when it was
    result = ticker(h).tick(TickRequest("weekday-report", "default", NINE))
    assert result.outcome is TickOutcome.STARTED
    assert result.execution_id == tick_execution_id("weekday-report", "default", NINE)
    assert output(h, result.execution_id) == "2030-01-07T09:00:00+01:00"


def test_a_tick_delivered_again_starts_nothing_new(h: Harness) -> None:
    t = ticker(h)
    first = t.tick(TickRequest("weekday-report", "default", NINE))
    again = t.tick(TickRequest("weekday-report", "default", NINE))
    assert (again.outcome, again.execution_id) == (TickOutcome.DUPLICATE, first.execution_id)
    assert len(h.journal.list_executions(workflow_id="weekday-report")) == 1


def test_a_duplicate_of_a_tick_whose_start_was_lost_invokes_it_again(h: Harness) -> None:
    lost = QueueInvoker()
    first = ticker(h, lost).tick(TickRequest("weekday-report", "default", NINE))
    assert lost.started == [first.execution_id]  # never run: the invocation was lost
    again = ticker(h, lost).tick(TickRequest("weekday-report", "default", NINE))
    assert again.outcome is TickOutcome.DUPLICATE
    assert lost.started == [first.execution_id] * 2  # pending: invoked again, harmlessly


def test_the_payload_has_the_last_and_upcoming_ticks_and_the_schedule(h: Harness) -> None:
    schedule = h.client.schedules.create(ticked, "0 9 * * 1-5", "Europe/Paris", key="weekday")
    generation = schedule.record.generation
    t = ticker(h)
    first = t.tick(TickRequest("ticked", "weekday", NINE, generation))
    second = t.tick(TickRequest("ticked", "weekday", NINE + timedelta(days=1), generation))
    assert output(h, first.execution_id or "") == {
        "timestamp": "2030-01-07T09:00:00+01:00",
        "last": None,
        "upcoming": "2030-01-08T09:00:00+01:00",
        "key": "weekday",
    }
    assert output(h, second.execution_id or "")["last"] == "2030-01-07T09:00:00+01:00"


def test_a_late_tick_runs_without_moving_the_last_timestamp_back(h: Harness) -> None:
    t = ticker(h)
    t.tick(TickRequest("weekday-report", "default", NINE + timedelta(days=1)))
    late = t.tick(TickRequest("weekday-report", "default", NINE))
    assert late.outcome is TickOutcome.STARTED
    [info] = h.client.schedules.list("weekday-report")
    assert info.record.last_timestamp == NINE + timedelta(days=1)


def test_a_tick_over_a_running_execution_is_skipped_and_the_skip_recorded(h: Harness) -> None:
    t = ticker(h)
    at = datetime(2030, 1, 7, 10, 0, tzinfo=UTC)
    first = t.tick(TickRequest("long-tick", "ten", at))  # suspends for 25 minutes
    assert h.journal.get_execution(first.execution_id or "").status is ExecutionStatus.SUSPENDED
    skipped = t.tick(TickRequest("long-tick", "ten", at + timedelta(minutes=10)))
    assert skipped.outcome is TickOutcome.SKIPPED and skipped.execution_id is None
    again = t.tick(TickRequest("long-tick", "ten", at + timedelta(minutes=10)))  # redelivered
    assert again.outcome is TickOutcome.SKIPPED
    [info] = h.client.schedules.list("long-tick")
    view = info.to_dict()
    assert (view["skipped"], view["last_skipped"]) == (1, "2030-01-07T10:10:00+00:00")
    assert len(h.journal.list_executions(workflow_id="long-tick")) == 1


def test_with_overlap_allowed_ticks_run_side_by_side(h: Harness) -> None:
    t = ticker(h)
    at = datetime(2030, 1, 7, 10, 0, tzinfo=UTC)
    ticks = [TickRequest("allowed-tick", "default", at + timedelta(minutes=m)) for m in (0, 10, 20)]
    started = [t.tick(request) for request in ticks]
    assert [r.outcome for r in started] == [TickOutcome.STARTED] * 3
    statuses = {e.status for e in h.journal.list_executions(workflow_id="allowed-tick")}
    assert statuses == {ExecutionStatus.SUSPENDED}


def test_a_workflow_without_input_is_started_by_its_ticks(h: Harness) -> None:
    schedule = h.client.schedules.create("no-input", "*/5 * * * *")
    result = ticker(h).tick(TickRequest("no-input", "default", NINE, schedule.record.generation))
    assert output(h, result.execution_id or "") == "ran"


def test_a_paused_schedule_starts_nothing_until_resumed(h: Harness) -> None:
    t = ticker(h)
    h.client.schedules.pause("weekday-report")
    assert t.tick(TickRequest("weekday-report", "default", NINE)).outcome is TickOutcome.PAUSED
    assert h.client.schedules.get("weekday-report").to_dict()["next"] == []
    h.client.schedules.resume("weekday-report")
    assert t.tick(TickRequest("weekday-report", "default", NINE)).outcome is TickOutcome.STARTED


def test_a_tick_of_a_deleted_schedule_starts_nothing_even_if_the_key_is_reused(h: Harness) -> None:
    old = h.client.schedules.create(ticked, "0 9 * * *", key="k")
    h.client.schedules.delete(ticked, "k")
    late = TickRequest("ticked", "k", NINE, old.record.generation)
    assert ticker(h).tick(late).outcome is TickOutcome.GONE
    h.client.schedules.create(ticked, "0 9 * * *", key="k")  # a new schedule, same key
    assert ticker(h).tick(late).outcome is TickOutcome.GONE  # the old one's tick
    assert h.journal.list_executions(workflow_id="ticked") == []


def test_a_tick_of_a_schedule_no_longer_declared_starts_nothing(h: Harness) -> None:
    assert ticker(h).tick(TickRequest("ticked", "default", NINE)).outcome is TickOutcome.GONE


def test_runtime_schedules_are_listed_with_their_next_three_times(h: Harness) -> None:
    h.client.schedules.create(ticked, "0 9 * * 1-5", "Europe/Paris", key="weekday")
    h.client.schedules.create(ticked, "30 2 * * *", "UTC", key="night", overlap="allow")
    views = {i.schedule_id: i.to_dict() for i in h.client.schedules.list()}
    assert set(views) == {
        "allowed-tick:default", "long-tick:ten", "ticked:night", "ticked:weekday",
        "weekday-report:default",
    }  # fmt: skip
    weekday = views["ticked:weekday"]
    assert weekday["expression"] == "cron(0 9 ? * MON-FRI *)"
    assert weekday["next"] == [  # from Friday January 4, 00:00 UTC
        "2030-01-04T09:00:00+01:00", "2030-01-07T09:00:00+01:00", "2030-01-08T09:00:00+01:00",
    ]  # fmt: skip
    assert [weekday[f] for f in ("origin", "state", "overlap")] == ["runtime", "enabled", "skip"]
    assert views["weekday-report:default"]["origin"] == "declared"
    assert views["ticked:night"]["overlap"] == "allow"


def test_creating_the_same_schedule_again_returns_it(h: Harness) -> None:
    first = h.client.schedules.create(ticked, "0 9 * * *", key="k")
    again = h.client.schedules.create(ticked, "0 9 * * *", key="k")
    assert again.record == first.record


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda s: s.create("nope", "0 9 * * *"), WorkflowNotFoundError, "unknown workflow 'nope'"),
        (lambda s: s.create(ticked, "0 9 * *"), InvalidScheduleError, "5-field cron"),
        (lambda s: s.create(ticked, "0 9 1 * 1"), InvalidScheduleError, "takes only one of them"),
        (
            lambda s: s.create(ticked, "0 9 * * *", "Europe/Lutece"),
            InvalidScheduleError,
            "unknown timezone 'Europe/Lutece'",
        ),
        (lambda s: s.create(ticked, "0 9 * * *", key="a b"), InvalidScheduleError, "key 'a b'"),
        (lambda s: s.create(ticked, "0 9 * * *", overlap="queue"), InvalidScheduleError, "overlap"),
        (
            lambda s: s.create(takes_orders, "0 9 * * *"),
            InvalidScheduleError,
            "not a SchedulePayload",
        ),
        (
            lambda s: s.create(weekday_report, "0 10 * * *"),
            ScheduleConflictError,
            "declares a schedule with key 'default' in its code",
        ),
        (lambda s: s.delete(weekday_report), ScheduleConflictError, "declared in the code"),
        (lambda s: s.delete(ticked, "none"), ScheduleNotFoundError, "no schedule with key 'none'"),
        (lambda s: s.pause(ticked, "none"), ScheduleNotFoundError, "no schedule with key 'none'"),
    ],
)
def test_bad_requests_are_refused_naming_what_is_wrong(
    h: Harness, call: Any, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        call(h.client.schedules)
    assert [i.record.origin.value for i in h.client.schedules.list()] == ["declared"] * 3


def test_a_key_taken_by_another_schedule_is_refused(h: Harness) -> None:
    h.client.schedules.create(ticked, "0 9 * * *", key="k")
    with pytest.raises(ScheduleConflictError, match="already has a schedule with key 'k'"):
        h.client.schedules.create(ticked, "0 10 * * *", key="k")
