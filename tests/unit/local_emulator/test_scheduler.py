"""The emulator's scheduler: when one-time and recurring schedules fire, and with what."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import yaml

from infra.template import synth
from local_emulator.scheduler import (
    SWEEPER_HANDLER,
    RecurringDispatcher,
    RecurringSchedule,
    due_time,
    recurring_schedules,
)
from local_emulator.scheduler.expressions import Cron, Rate, ScheduleExpressionError, parse
from local_emulator.stack import _split, translate
from sdk import VirtualClock
from tests.unit.local_emulator.stacks import undeployed_stack

RUNNER = "arn:aws:lambda:us-east-1:123456789012:function:stepline-runner"
SWEEPER = "arn:aws:lambda:us-east-1:123456789012:function:app-sweeper"


def test_a_schedule_without_an_exact_time_fires_at_its_expression() -> None:
    schedule = {
        "ScheduleExpression": "at(2030-06-01T09:00:00)",
        "ScheduleExpressionTimezone": "Europe/Paris",
        "Target": {"Arn": RUNNER, "Input": "{}"},
    }
    assert due_time(schedule) == datetime(2030, 6, 1, 7, 0, tzinfo=UTC)
    assert due_time({"ScheduleExpression": "rate(5 minutes)", "Target": {}}) is None


def test_a_wake_up_schedule_fires_at_the_exact_time_it_carries() -> None:
    exact = datetime(2030, 6, 1, 9, 0, 0, 250_000, tzinfo=UTC)
    schedule = {
        "ScheduleExpression": "at(2030-06-01T09:00:01)",
        "Target": {"Arn": RUNNER, "Input": json.dumps({"wake_at": "2030-06-01T09:00:00.250000Z"})},
    }
    assert due_time(schedule) == exact


START = datetime(2030, 1, 1, 0, 0, 30, tzinfo=UTC)  # a Tuesday


@pytest.mark.parametrize(
    ("expression", "timezone", "expected"),
    [
        ("rate(1 minute)", "UTC", datetime(2030, 1, 1, 0, 1, 30, tzinfo=UTC)),
        ("rate(2 hours)", "UTC", datetime(2030, 1, 1, 2, 0, 30, tzinfo=UTC)),
        ("rate(1 day)", "UTC", datetime(2030, 1, 2, 0, 0, 30, tzinfo=UTC)),
        ("cron(0 9 * * ? *)", "UTC", datetime(2030, 1, 1, 9, 0, tzinfo=UTC)),
        ("cron(0 9 * * ? *)", "Europe/Paris", datetime(2030, 1, 1, 8, 0, tzinfo=UTC)),
        # AWS numbers the days of the week from 1 (Sunday): 2 is Monday.
        ("cron(0 12 ? * 2 *)", "UTC", datetime(2030, 1, 7, 12, 0, tzinfo=UTC)),
        ("cron(0 12 ? * 6-7 *)", "UTC", datetime(2030, 1, 4, 12, 0, tzinfo=UTC)),
        ("cron(0 12 ? * MON-FRI *)", "UTC", datetime(2030, 1, 1, 12, 0, tzinfo=UTC)),
        ("cron(15 10 1 * ? 2031)", "UTC", datetime(2031, 1, 1, 10, 15, tzinfo=UTC)),
    ],
)
def test_an_expression_fires_next_at(expression: str, timezone: str, expected: datetime) -> None:
    fires = parse(expression, timezone).next_after(START)
    assert fires is not None and fires.astimezone(UTC) == expected


def test_a_cron_whose_years_have_passed_never_fires() -> None:
    assert parse("cron(0 0 1 1 ? 2029)").next_after(START) is None


@pytest.mark.parametrize(
    "expression", ["at(2030-01-01T00:00:00)", "rate(0 minutes)", "rate(1 week)", "cron(0 9 * *)"]
)
def test_an_expression_the_emulator_cannot_fire_is_refused(expression: str) -> None:
    with pytest.raises(ScheduleExpressionError, match="rate|cron|expression"):
        parse(expression)


def _sweeper_only(schedules: list[RecurringSchedule]) -> list[RecurringSchedule]:
    """The schedules targeting the sweeper (the example app's own schedules aside)."""
    return [schedule for schedule in schedules if schedule.function == SWEEPER]


def test_the_sweeper_schedule_is_read_from_the_template() -> None:
    [sweep] = _sweeper_only(recurring_schedules(undeployed_stack()))
    assert sweep == RecurringSchedule(
        name="SweeperFunctionSweep",
        arn="arn:aws:scheduler:us-east-1:123456789012:schedule/app/SweeperFunctionSweep",
        function=SWEEPER,
        when=Rate(timedelta(minutes=1)),
        source="scheduler",
    )
    assert sweep.payload(START) == {}


def test_tests_may_run_the_sweeper_more_often() -> None:
    [sweep] = _sweeper_only(recurring_schedules(undeployed_stack(), {SWEEPER_HANDLER: 0.2}))
    assert sweep.when == Rate(timedelta(seconds=0.2))


def _with_events(events: dict[str, Any]) -> dict[str, Any]:
    template: dict[str, Any] = yaml.safe_load(synth(["examples"]))
    template["Resources"]["SweeperFunction"]["Properties"]["Events"] = events
    return template


def test_a_scheduled_rule_fires_with_eventbridges_scheduled_event() -> None:
    events = {"Tick": {"Type": "Schedule", "Properties": {"Schedule": "cron(0 9 * * ? *)"}}}
    [tick] = _sweeper_only(recurring_schedules(undeployed_stack(_with_events(events))))
    assert (tick.function, tick.source) == (SWEEPER, "events")
    assert tick.when == Cron("0 9 * * *", None, "UTC")
    payload = tick.payload(datetime(2030, 1, 1, 9, tzinfo=UTC))
    assert payload["detail-type"] == "Scheduled Event" and payload["source"] == "aws.events"
    assert payload["time"] == "2030-01-01T09:00:00Z" and payload["resources"] == [tick.arn]


def test_a_schedule_input_gets_its_context_attributes() -> None:
    events = {
        "Tick": {
            "Type": "ScheduleV2",
            "Properties": {
                "ScheduleExpression": "rate(5 minutes)",
                "Input": json.dumps(
                    {"at": "<aws.scheduler.scheduled-time>", "by": "<aws.scheduler.schedule-arn>"}
                ),
            },
        }
    }
    [tick] = _sweeper_only(recurring_schedules(undeployed_stack(_with_events(events))))
    assert tick.payload(datetime(2030, 1, 1, 9, tzinfo=UTC)) == {
        "at": "2030-01-01T09:00:00Z",
        "by": "arn:aws:scheduler:us-east-1:123456789012:schedule/default/SweeperFunctionTick",
    }


def test_a_disabled_schedule_does_not_fire() -> None:
    events = {
        "Tick": {
            "Type": "ScheduleV2",
            "Properties": {"ScheduleExpression": "rate(5 minutes)", "State": "DISABLED"},
        }
    }
    assert _sweeper_only(recurring_schedules(undeployed_stack(_with_events(events)))) == []


@dataclass
class FakeLambdas:
    invoked: list[tuple[str, Any]] = field(default_factory=list)

    def invoke_async(self, name: str, payload: Any) -> str:
        self.invoked.append((name, payload))
        return "request"


def test_the_dispatcher_fires_each_period_on_its_clock() -> None:
    clock = VirtualClock(START)
    schedule = RecurringSchedule("tick", "arn", SWEEPER, Rate(timedelta(minutes=1)), "scheduler")
    lambdas = FakeLambdas()
    dispatcher = RecurringDispatcher([schedule], lambdas, clock=clock)  # type: ignore[arg-type]
    dispatcher.start()
    dispatcher.stop()  # ticked by hand below
    assert dispatcher.tick() == 0
    clock.advance(seconds=59)
    assert dispatcher.tick() == 0
    clock.advance(seconds=1)
    assert dispatcher.tick() == 1
    clock.advance(minutes=10)  # fell behind: fires once, then carries on from now
    assert dispatcher.tick() == 1
    assert dispatcher.tick() == 0
    clock.advance(minutes=1)
    assert dispatcher.tick() == 1
    assert lambdas.invoked == [(SWEEPER, {})] * 3
    assert dispatcher.fired == {"tick": 3}


def test_moto_gets_neither_schedules_nor_the_permissions_they_need() -> None:
    events = {"Tick": {"Type": "Schedule", "Properties": {"Schedule": "rate(5 minutes)"}}}
    theirs, ours = _split(translate(yaml.safe_dump(_with_events(events))))
    assert {"SweeperFunctionTick", "ScheduleGroup", "WakeupsFunctionTimerQueue"} <= set(ours)
    assert not {"SweeperFunctionTick", "SweeperFunctionTickPermission"} & set(theirs["Resources"])
    assert "SweeperFunction" in theirs["Resources"]


def test_a_runtime_cron_schedule_stored_in_moto_fires_at_its_nominal_times() -> None:
    """What ``client.schedules.create`` leaves in EventBridge Scheduler fires in the emulator
    where AWS would, with the tick's nominal time in its input; not while it is disabled."""
    import boto3
    from moto import mock_aws

    from local_emulator.scheduler import ScheduleDispatcher
    from sdk.schedules.aws import AwsScheduleBackend, ScheduleRoutes
    from sdk.schedules.records import Origin, ScheduleRecord, State

    with mock_aws():
        scheduler = boto3.client("scheduler", region_name="us-east-1")
        scheduler.create_schedule_group(Name="app")
        role = "arn:aws:iam::123456789012:role/scheduler"
        backend = AwsScheduleBackend(scheduler, ScheduleRoutes("app", "stack-id", RUNNER, role))
        record = ScheduleRecord(
            "report", "weekday", "0 9 * * 1-5", "Europe/Paris", "skip", Origin.RUNTIME,
            State.ENABLED, START, "g1",
        )  # fmt: skip
        backend.put(record)
        clock = VirtualClock(datetime(2030, 3, 29, 7, 0, tzinfo=UTC))  # Friday, 08:00 in Paris
        lambdas = FakeLambdas()
        dispatcher = ScheduleDispatcher(scheduler, lambdas, clock=clock)  # type: ignore[arg-type]
        assert dispatcher.tick() == 0
        clock.advance(hours=1)
        assert dispatcher.tick() == 1
        clock.advance(days=3)  # Monday 08:00 UTC: 09:00 in Paris was 07:00 UTC (summer time)
        assert dispatcher.tick() == 1
        assert [payload for _, payload in lambdas.invoked] == [
            {"workflow_id": "report", "key": "weekday", "generation": "g1",
             "scheduled_time": when}
            for when in ("2030-03-29T08:00:00Z", "2030-04-01T07:00:00Z")
        ]  # fmt: skip
        backend.put(record.evolve(state=State.PAUSED))
        clock.advance(days=1)
        assert dispatcher.tick() == 0
        backend.put(record.evolve(state=State.ENABLED))
        assert dispatcher.tick() == 0  # resumed: from now on
        clock.advance(days=1)
        assert dispatcher.tick() == 1
        backend.remove(record)
        clock.advance(days=1)
        assert dispatcher.tick() == 0
