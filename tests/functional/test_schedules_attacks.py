"""Hostile review of cron schedules (issue 11): each test is one attack on a promise of
``docs/semantics.md`` "Schedules"; a defect found is fixed or marked as a known limit."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from sdk import SchedulePayload, WorkflowContext, workflow
from sdk.errors import InvalidScheduleError
from sdk.schedules.cron import aws_expression, check_cron, fire_times
from sdk.schedules.ticks import Ticker, TickOutcome, TickRequest
from tests.support import Harness


def local(zone: str, *fields: int, fold: int = 0) -> datetime:
    return datetime(*fields, tzinfo=ZoneInfo(zone), fold=fold)  # type: ignore[misc]


# --- cron conversion -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cron", "aws", "first_two"),
    [
        ("5-5 * * * *", "cron(5 * * * ? *)", ["00:05", "01:05"]),
        ("0 3-3 * * *", "cron(0 3 * * ? *)", ["03:00", "03:00"]),
        ("0 9 1-1 * *", "cron(0 9 1 * ? *)", ["09:00", "09:00"]),
        ("0 9 * * 0-0", "cron(0 9 ? * SUN *)", ["09:00", "09:00"]),
        ("0 9 * * 7-7", "cron(0 9 ? * SUN *)", ["09:00", "09:00"]),
    ],
)
def test_a_range_of_one_value_is_that_value_not_every_value(
    cron: str, aws: str, first_two: list[str]
) -> None:
    assert aws_expression(cron) == aws
    after = datetime(2030, 1, 1, tzinfo=UTC)  # a Tuesday
    times = fire_times(cron, "UTC", after, 2)
    assert [t.strftime("%H:%M") for t in times] == first_two
    gap = times[1] - times[0]
    assert gap >= timedelta(hours=1)
    if "0-0" in cron or "7-7" in cron:
        assert {t.strftime("%a") for t in times} == {"Sun"}


def test_a_day_of_week_step_from_seven_means_sunday_only() -> None:
    # classic cron: 7/2 is 7..7 stepping 2 -> Sunday; never every other day
    after = datetime(2030, 1, 1, tzinfo=UTC)
    times = fire_times("0 9 * * 7/2", "UTC", after, 3)
    assert {t.strftime("%a") for t in times} == {"Sun"}
    assert aws_expression("0 9 * * 7/2") == "cron(0 9 ? * SUN *)"


@pytest.mark.parametrize(
    ("cron", "aws"),
    [
        ("0 9 * * 0,7", "cron(0 9 ? * SUN *)"),
        ("0 9 * * 1-5/2", "cron(0 9 ? * MON,WED,FRI *)"),
        ("0 */15 * * *", "cron(0 0,15 * * ? *)"),
        ("0 9 * JAN-MAR *", "cron(0 9 * 1-3 ? *)"),
        ("0 9 * * MON,3,fri", "cron(0 9 ? * MON,WED,FRI *)"),
        ("5/15 * * * *", "cron(5/15 * * * ? *)"),
        ("0 1-23/2 * * *", "cron(0 1/2 * * ? *)"),
        ("0 9 * * 0-7", "cron(0 9 * * ? *)"),
    ],
)
def test_cron_conversions_that_held(cron: str, aws: str) -> None:
    assert aws_expression(cron) == aws


def test_a_date_that_never_comes_is_refused() -> None:
    with pytest.raises(InvalidScheduleError, match="never"):
        check_cron("0 0 30 2 *")
