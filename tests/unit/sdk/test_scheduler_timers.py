"""Wake-ups as EventBridge Scheduler schedules (on moto), and how the emulator reads them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from moto import mock_aws

from local_emulator.scheduler import due_time
from sdk.scheduler_timers import SchedulerTimers

RUNNER = "arn:aws:lambda:us-east-1:123456789012:function:stepline-runner"
ROLE = "arn:aws:iam::123456789012:role/stepline-scheduler"


@pytest.fixture
def scheduler() -> Iterator[Any]:
    with mock_aws():
        yield boto3.client("scheduler", region_name="us-east-1")


def test_a_wake_up_is_a_one_time_schedule_rounded_up_to_the_second(scheduler: Any) -> None:
    timers = SchedulerTimers(scheduler, runner_arn=RUNNER, role_arn=ROLE)
    wake_at = datetime(2030, 1, 1, 12, 0, 5, 250_000, tzinfo=UTC)
    timers.schedule("e-1", "cool-off", wake_at)
    name = SchedulerTimers.schedule_name("e-1", "cool-off")
    schedule = scheduler.get_schedule(Name=name)
    assert schedule["ScheduleExpression"] == "at(2030-01-01T12:00:06)"
    assert schedule["ActionAfterCompletion"] == "DELETE"
    assert (schedule["Target"]["Arn"], schedule["Target"]["RoleArn"]) == (RUNNER, ROLE)
    assert json.loads(schedule["Target"]["Input"])["execution_id"] == "e-1"
    assert due_time(schedule) == wake_at  # the emulator fires at the exact time


def test_scheduling_the_same_wait_twice_keeps_one_schedule(scheduler: Any) -> None:
    timers = SchedulerTimers(scheduler, runner_arn=RUNNER, role_arn=ROLE)
    wake_at = datetime(2030, 1, 1, tzinfo=UTC)
    timers.schedule("e-1", "cool-off", wake_at)
    timers.schedule("e-1", "cool-off", wake_at)  # a replayed wait
    timers.schedule("e-1", "other", wake_at)
    assert len(scheduler.list_schedules()["Schedules"]) == 2


def test_a_schedule_without_an_exact_time_fires_at_its_expression() -> None:
    schedule = {
        "ScheduleExpression": "at(2030-06-01T09:00:00)",
        "ScheduleExpressionTimezone": "Europe/Paris",
        "Target": {"Arn": RUNNER, "Input": "{}"},
    }
    assert due_time(schedule) == datetime(2030, 6, 1, 7, 0, tzinfo=UTC)
    assert due_time({"ScheduleExpression": "rate(5 minutes)", "Target": {}}) is None
