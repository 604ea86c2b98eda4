"""Wake-ups on AWS (on moto): SQS delays up to 15 minutes, Scheduler schedules past that."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError
from moto import mock_aws

from local_emulator.scheduler import due_time
from sdk import SystemClock, VirtualClock
from sdk.aws_timers import (
    MAX_DELAY_SECONDS,
    MAX_PREFIX_LENGTH,
    AwsTimers,
    TimerRoutes,
    client_config,
    delay_seconds,
    schedule_name,
)

RUNNER = "arn:aws:lambda:us-east-1:123456789012:function:stepline-runner"
ROLE = "arn:aws:iam::123456789012:role/stepline-scheduler"
DLQ = "arn:aws:sqs:us-east-1:123456789012:stepline-schedule-dlq"
GROUP = "my-stack"
PREFIX = "5f2c1f6e-8a0b-4c1d-9e7f-3a2b1c0d9e8f"  # a stack's id
NAME = re.compile(r"^[0-9A-Za-z_.-]{1,64}$")


@dataclass
class Aws:
    sqs: Any
    scheduler: Any
    queue_url: str

    def timers(self, clock: Any, prefix: str = PREFIX, dlq: str | None = DLQ) -> AwsTimers:
        routes = TimerRoutes(self.queue_url, GROUP, prefix, RUNNER, ROLE, dlq)
        return AwsTimers(self.sqs, self.scheduler, routes, clock)

    def counts(self) -> tuple[int, int]:
        """(messages delayed, messages visible) on the timer queue."""
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=self.queue_url,
            AttributeNames=["ApproximateNumberOfMessagesDelayed", "ApproximateNumberOfMessages"],
        )["Attributes"]
        return (
            int(attributes["ApproximateNumberOfMessagesDelayed"]),
            int(attributes["ApproximateNumberOfMessages"]),
        )

    def schedules(self) -> list[dict[str, Any]]:
        listed = self.scheduler.list_schedules(GroupName=GROUP)["Schedules"]
        return [self.scheduler.get_schedule(Name=s["Name"], GroupName=GROUP) for s in listed]


@pytest.fixture
def aws() -> Iterator[Aws]:
    with mock_aws():
        # Built as the runner builds them (standard retries).
        sqs = boto3.client("sqs", region_name="us-east-1", config=client_config())
        scheduler = boto3.client("scheduler", region_name="us-east-1", config=client_config())
        scheduler.create_schedule_group(Name=GROUP)
        url = sqs.create_queue(QueueName="timers")["QueueUrl"]
        yield Aws(sqs, scheduler, url)


@pytest.mark.parametrize(
    ("seconds", "expected"), [(0, 0), (-3, 0), (0.001, 1), (1.2, 2), (2, 2), (900, 900)]
)
def test_the_delay_is_rounded_up_to_whole_seconds(seconds: float, expected: int) -> None:
    now = datetime(2030, 1, 1, tzinfo=UTC)
    assert delay_seconds(now + timedelta(seconds=seconds), now) == expected


def test_a_two_second_wait_is_a_message_receivable_only_after_two_seconds(aws: Aws) -> None:
    timers = aws.timers(SystemClock())
    wake_at = SystemClock().now() + timedelta(seconds=2)
    sent = time.monotonic()
    timers.schedule("e-1", "pause", wake_at)
    assert aws.counts() == (1, 0)
    assert aws.sqs.receive_message(QueueUrl=aws.queue_url).get("Messages") is None
    deadline = sent + 10
    while not (messages := aws.sqs.receive_message(QueueUrl=aws.queue_url).get("Messages")):
        assert time.monotonic() < deadline, "the delayed message never became visible"
        time.sleep(0.02)
    assert time.monotonic() - sent >= 2
    assert json.loads(messages[0]["Body"]) == {
        "execution_id": "e-1",
        "wake_at": wake_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
    }


def test_a_wait_of_exactly_fifteen_minutes_still_goes_to_the_queue(aws: Aws) -> None:
    clock = VirtualClock()
    aws.timers(clock).schedule("e-1", "pause", clock.now() + timedelta(seconds=MAX_DELAY_SECONDS))
    assert aws.counts() == (1, 0)
    assert aws.schedules() == []


def test_a_longer_wait_is_a_one_time_schedule_in_the_stack_group(aws: Aws) -> None:
    clock = VirtualClock(datetime(2030, 1, 1, 12, 0, tzinfo=UTC))
    wake_at = clock.now() + timedelta(minutes=15, seconds=5, microseconds=250_000)
    timers = aws.timers(clock)
    timers.schedule("e-1", "cool-off", wake_at)
    assert aws.counts() == (0, 0)
    [schedule] = aws.schedules()
    assert schedule["GroupName"] == GROUP
    assert schedule["Name"] == timers.schedule_name("e-1", "cool-off")
    assert schedule["Name"].startswith(PREFIX + "-")
    assert schedule["ScheduleExpression"] == "at(2030-01-01T12:15:06)"  # rounded up
    assert schedule["ScheduleExpressionTimezone"] == "UTC"
    assert schedule["FlexibleTimeWindow"] == {"Mode": "OFF"}
    assert schedule["ActionAfterCompletion"] == "DELETE"
    assert (schedule["Target"]["Arn"], schedule["Target"]["RoleArn"]) == (RUNNER, ROLE)
    assert json.loads(schedule["Target"]["Input"])["execution_id"] == "e-1"
    assert due_time(schedule) == wake_at  # the emulator fires at the exact time


def test_a_schedule_that_cannot_invoke_the_runner_keeps_its_wake_up_in_the_dlq(aws: Aws) -> None:
    clock = VirtualClock()
    aws.timers(clock).schedule("e-1", "nap", clock.now() + timedelta(hours=1))
    [schedule] = aws.schedules()
    assert schedule["Target"]["DeadLetterConfig"] == {"Arn": DLQ}


def test_without_a_dlq_the_schedule_has_no_dead_letter_config(aws: Aws) -> None:
    clock = VirtualClock()
    aws.timers(clock, dlq=None).schedule("e-1", "nap", clock.now() + timedelta(hours=1))
    [schedule] = aws.schedules()
    assert "DeadLetterConfig" not in schedule["Target"]


def test_scheduling_the_same_long_wait_twice_keeps_one_schedule(aws: Aws) -> None:
    clock = VirtualClock()
    timers = aws.timers(clock)
    wake_at = clock.now() + timedelta(hours=2)
    timers.schedule("e-1", "cool-off", wake_at)
    timers.schedule("e-1", "cool-off", wake_at)  # a replayed wait: ConflictException
    timers.schedule("e-1", "other", wake_at)
    assert len(aws.schedules()) == 2


def _error_response(code: str) -> AWSResponse:
    class Raw:
        def stream(self, **_: Any) -> Iterator[bytes]:
            yield json.dumps({"__type": code, "message": "injected"}).encode()

    return AWSResponse("https://scheduler", 400, {"x-amzn-ErrorType": code}, Raw())


def test_any_other_scheduler_error_reaches_the_invocation(aws: Aws) -> None:
    def refuse(**_: Any) -> AWSResponse:
        return _error_response("ValidationException")

    aws.scheduler.meta.events.register_first("before-send.scheduler.CreateSchedule", refuse)
    clock = VirtualClock()
    with pytest.raises(ClientError) as raised:
        aws.timers(clock).schedule("e-1", "cool-off", clock.now() + timedelta(hours=1))
    assert raised.value.response["Error"]["Code"] == "ValidationException"


def test_a_lost_response_is_retried_and_at_worst_wakes_the_execution_twice(aws: Aws) -> None:
    # moto handles every request, then this hook replaces the first answer with a
    # throttling error: the message was sent, the runner's client retries and sends it again.
    lost: list[int] = []

    def lose_first_answer(**_: Any) -> AWSResponse | None:
        if lost:
            return None
        lost.append(1)
        return _error_response("RequestThrottled")

    aws.sqs.meta.events.register_first("before-send.sqs.SendMessage", lose_first_answer)
    clock = VirtualClock()
    aws.timers(clock).schedule("e-1", "pause", clock.now())
    assert lost == [1]
    assert aws.counts() == (0, 2)
    received = aws.sqs.receive_message(QueueUrl=aws.queue_url, MaxNumberOfMessages=10)
    assert {json.loads(m["Body"])["execution_id"] for m in received["Messages"]} == {"e-1"}


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("stack-a", "stack-b"),
        ("stack", "stack-a"),  # one prefix begins the other
        ("a-b", "a"),
        (PREFIX, PREFIX.replace("5", "6")),
    ],
)
def test_two_prefixes_never_give_the_same_schedule_name(first: str, second: str) -> None:
    waits = [("e-1", "k"), ("e-1", "a-k"), ("b-e-1", "k"), ("x" * 200, "y" * 900)]
    names = {schedule_name(prefix, e, k) for prefix in (first, second) for e, k in waits}
    assert len(names) == 2 * len(waits)
    for prefix in (first, second):
        for execution_id, key in waits:
            name = schedule_name(prefix, execution_id, key)
            assert NAME.match(name) and name.rsplit("-", 1)[0] == prefix


def test_a_prefix_that_leaves_no_room_for_the_digest_is_refused() -> None:
    with pytest.raises(ValueError, match=f"1 to {MAX_PREFIX_LENGTH} characters"):
        TimerRoutes("url", GROUP, "p" * (MAX_PREFIX_LENGTH + 1), RUNNER, ROLE)
    with pytest.raises(ValueError, match="schedule prefix 'a/b'"):
        TimerRoutes("url", GROUP, "a/b", RUNNER, ROLE)
