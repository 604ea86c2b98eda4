"""The runner's wake-up routes come from its environment, as the template sets it."""

from __future__ import annotations

import pytest

from handlers.config import TIMER_VARIABLES, timer_routes_from_environ
from handlers.runner import build_runner_from_environment
from sdk.aws_timers import AwsTimers, TimerRoutes

ENVIRONMENT = {
    "STEPLINE_TIMER_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/timers",
    "STEPLINE_SCHEDULE_GROUP": "my-stack",
    "STEPLINE_SCHEDULE_PREFIX": "5f2c1f6e-8a0b-4c1d-9e7f-3a2b1c0d9e8f",
    "STEPLINE_RUNNER_ARN": "arn:aws:lambda:us-east-1:123456789012:function:my-stack-runner",
    "STEPLINE_SCHEDULER_ROLE_ARN": "arn:aws:iam::123456789012:role/my-stack-scheduler",
    "STEPLINE_SCHEDULE_DLQ_ARN": "arn:aws:sqs:us-east-1:123456789012:my-stack-schedule-dlq",
}


def test_the_routes_are_read_from_the_environment() -> None:
    assert timer_routes_from_environ(ENVIRONMENT) == TimerRoutes(
        queue_url=ENVIRONMENT["STEPLINE_TIMER_QUEUE_URL"],
        schedule_group="my-stack",
        schedule_prefix=ENVIRONMENT["STEPLINE_SCHEDULE_PREFIX"],
        runner_arn=ENVIRONMENT["STEPLINE_RUNNER_ARN"],
        scheduler_role_arn=ENVIRONMENT["STEPLINE_SCHEDULER_ROLE_ARN"],
        dead_letter_arn=ENVIRONMENT["STEPLINE_SCHEDULE_DLQ_ARN"],
    )


def test_missing_variables_are_named() -> None:
    partial = {k: v for k, v in ENVIRONMENT.items() if k != "STEPLINE_SCHEDULE_GROUP"}
    with pytest.raises(RuntimeError, match="missing environment variables: STEPLINE_SCHEDULE_GR"):
        timer_routes_from_environ(partial)


def test_the_deployed_runner_wakes_executions_through_aws_timers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in {
        **ENVIRONMENT,
        "STEPLINE_APP": "tests.apps.waiting",
        "STEPLINE_TABLE": "journal",
        "AWS_LAMBDA_FUNCTION_NAME": "my-stack-runner",
    }.items():
        monkeypatch.setenv(name, value)
    timers = build_runner_from_environment().engine.timers
    assert isinstance(timers, AwsTimers)
    assert timers.routes == timer_routes_from_environ(ENVIRONMENT)
    assert set(TIMER_VARIABLES.values()) == set(ENVIRONMENT)
