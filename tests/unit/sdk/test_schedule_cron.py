"""Cron expressions: what is accepted, AWS's six-field form, and when a schedule fires in
its timezone, daylight saving changes included (the rule of docs/semantics.md, Schedules)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from local_emulator.scheduler.expressions import parse
from sdk.errors import InvalidScheduleError
from sdk.schedules.cron import aws_expression, check_cron, check_timezone, fire_times


@pytest.mark.parametrize(
    ("cron", "aws"),
    [
        ("0 9 * * *", "cron(0 9 * * ? *)"),
        ("0 9 * * 1-5", "cron(0 9 ? * MON-FRI *)"),  # AWS numbers days 1 (SUN) to 7 (SAT)
        ("0 9 * * 0", "cron(0 9 ? * SUN *)"),
        ("0 9 * * 7", "cron(0 9 ? * SUN *)"),  # 7 is Sunday too in classic cron
        ("30 8 * * sat,sun", "cron(30 8 ? * SUN,SAT *)"),
        ("*/15 * * * *", "cron(0/15 * * * ? *)"),
        ("0 */6 * * *", "cron(0 0/6 * * ? *)"),
        ("0 9 15 * *", "cron(0 9 15 * ? *)"),
        ("0 9 1-10/3 */2 *", "cron(0 9 1,4,7,10 1/2 ? *)"),
        ("5,10 1-4 * jan-mar 1,3,5", "cron(5,10 1-4 ? 1-3 MON,WED,FRI *)"),
        ("0 0 * * */2", "cron(0 0 ? * SUN,TUE,THU,SAT *)"),  # AWS takes no '/' in day-of-week
    ],
)
def test_a_cron_becomes_aws_six_field_form(cron: str, aws: str) -> None:
    assert aws_expression(cron) == aws


@pytest.mark.parametrize(
    ("cron", "message"),
    [
        ("0 9 1 * 1", "restricts both the day of the month \\(1\\) and the day of the week"),
        ("0 9 L * *", "the day of month field 'L' is not made of numbers"),
        ("0 9 * * 1#2", "the day of week field '1#2'"),
        ("0 9 ? * *", "the day of month field '\\?'"),
        ("@daily", "not a valid 5-field cron expression .* it has 1 field"),
        ("0 9 * * * 2030", "it has 6 field"),
        ("61 * * * *", "'61 \\* \\* \\* \\*' is not a valid 5-field cron expression"),
        ("0 mon * * *", "the hour field takes numbers only"),
    ],
)
def test_what_aws_cannot_express_is_refused_naming_why(cron: str, message: str) -> None:
    with pytest.raises(InvalidScheduleError, match=message):
        check_cron(cron)


def test_an_unknown_timezone_is_refused() -> None:
    with pytest.raises(InvalidScheduleError, match="unknown timezone 'Mars/Base'"):
        check_timezone("Mars/Base")


# Europe/Paris in 2030: clocks go forward at 02:00 on Sunday March 31 (no 02:00-02:59 that
# night) and back at 03:00 on Sunday October 27 (02:00-02:59 happens twice).
SPRING = datetime(2030, 3, 29, tzinfo=UTC)
AUTUMN = datetime(2030, 10, 25, tzinfo=UTC)


def _local(times: list[datetime]) -> list[str]:
    return [t.isoformat() for t in times]


def test_a_local_time_the_spring_forward_night_skips_does_not_fire_that_day() -> None:
    assert _local(fire_times("30 2 * * *", "Europe/Paris", SPRING, 3)) == [
        "2030-03-29T02:30:00+01:00",
        "2030-03-30T02:30:00+01:00",
        "2030-04-01T02:30:00+02:00",  # nothing on March 31
    ]


def test_a_local_time_the_fall_back_night_repeats_fires_once_at_its_first_occurrence() -> None:
    times = fire_times("30 2 * * *", "Europe/Paris", AUTUMN, 4)
    assert _local(times) == [
        "2030-10-25T02:30:00+02:00",
        "2030-10-26T02:30:00+02:00",
        "2030-10-27T02:30:00+02:00",  # the first 02:30 (summer time) only
        "2030-10-28T02:30:00+01:00",
    ]
    assert times[2].astimezone(UTC) == datetime(2030, 10, 27, 0, 30, tzinfo=UTC)


def test_every_half_hour_through_the_fall_back_night_skips_the_repeated_hour() -> None:
    start = datetime(2030, 10, 26, 23, 0, tzinfo=UTC)  # 01:00 summer time
    times = fire_times("*/30 * * * *", "Europe/Paris", start, 5)
    utc = [t.astimezone(UTC).strftime("%H:%M") for t in times]
    # 01:30 CEST, 02:00 CEST, 02:30 CEST; the second 02:00 and 02:30 (CET) do not fire; 03:00 CET
    assert utc == ["23:30", "00:00", "00:30", "02:00", "02:30"]


def test_a_weekday_schedule_keeps_its_local_time_across_the_change() -> None:
    times = fire_times("0 9 * * 1-5", "Europe/Paris", datetime(2030, 3, 27, 12, tzinfo=UTC), 5)
    assert [t.astimezone(UTC).hour for t in times] == [8, 8, 7, 7, 7]
    days = ["Thu 28", "Fri 29", "Mon 01", "Tue 02", "Wed 03"]
    assert [t.strftime("%a %d") for t in times] == days


@pytest.mark.parametrize(
    "cron",
    ["0 9 * * 1-5", "*/15 * * * *", "30 2 * * *", "0 0 * * */2", "0 9 1-10/3 */2 *", "5 1 * * 0"],
)
@pytest.mark.parametrize("timezone", ["UTC", "Europe/Paris", "America/New_York"])
def test_the_emulator_fires_the_aws_form_when_the_sdk_says(cron: str, timezone: str) -> None:
    """What the template and runtime schedules hand AWS is what the emulator fires, at the
    times the fixture's clock stops at: the conversion loses nothing."""
    aws = parse(aws_expression(cron), timezone)
    moment = datetime(2030, 3, 1, tzinfo=UTC)
    emulated = []
    for _ in range(40):
        following = aws.next_after(moment)
        assert following is not None
        emulated.append(following)
        moment = following
    assert emulated == fire_times(cron, timezone, datetime(2030, 3, 1, tzinfo=UTC), 40)
    assert all(t - u > timedelta(0) for t, u in zip(emulated[1:], emulated, strict=False))
