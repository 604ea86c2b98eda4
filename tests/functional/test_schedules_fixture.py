"""Schedules in the ``stepline`` fixture: ``advance()`` fires ticks where EventBridge
Scheduler would (croniter in the schedule's zone, both daylight saving nights), runs their
executions, skips what overlaps, and fires the schedules created at run time."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from local_emulator.testing import InProcessStepline
from sdk.clock import VirtualClock
from sdk.journal.records import ExecutionStatus
from sdk.schedules.ticks import TickOutcome


@pytest.fixture
def at(request: pytest.FixtureRequest) -> Iterator[Any]:
    """``at(start, app)``: an in-process fixture whose virtual clock starts at ``start``."""
    made: list[InProcessStepline] = []

    def build(start: datetime, app: str = "tests.apps.schedules") -> InProcessStepline:
        harness = InProcessStepline([app], VirtualClock(start))
        made.append(harness)
        return harness

    yield build
    for harness in made:
        harness.close()


def outputs(stepline: InProcessStepline, workflow_id: str) -> list[str]:
    runs = stepline.client.list_executions(workflow_id=workflow_id)
    assert {r.status for r in runs} <= {ExecutionStatus.COMPLETED}
    return sorted(json.loads(r.output or "null") for r in runs)


def test_a_week_of_a_weekday_paris_schedule_across_the_spring_change(at: Any) -> None:
    """The acceptance case: cron "0 9 * * 1-5" in Europe/Paris, from Wednesday March 27, 2030
    for seven days; the clocks go forward on Sunday March 31."""
    stepline = at(datetime(2030, 3, 27, 12, 0, tzinfo=UTC))
    stepline.advance(days=7)
    assert outputs(stepline, "weekday-report") == [
        "2030-03-28T09:00:00+01:00",  # 08:00 UTC
        "2030-03-29T09:00:00+01:00",
        "2030-04-01T09:00:00+02:00",  # 07:00 UTC: still 09:00 in Paris
        "2030-04-02T09:00:00+02:00",
        "2030-04-03T09:00:00+02:00",
    ]
    monday = datetime(2030, 4, 1, 7, 0, tzinfo=UTC)
    again = stepline.tick("weekday-report", monday)  # Scheduler delivers Monday's tick again
    assert again.outcome is TickOutcome.DUPLICATE
    assert len(outputs(stepline, "weekday-report")) == 5


def test_a_week_across_the_autumn_change_keeps_nine_in_paris(at: Any) -> None:
    stepline = at(datetime(2030, 10, 23, 12, 0, tzinfo=UTC))  # Wednesday; back on Sunday 27
    stepline.advance(days=7)
    assert [t[11:] for t in outputs(stepline, "weekday-report")] == [
        "09:00:00+02:00", "09:00:00+02:00", "09:00:00+01:00", "09:00:00+01:00",
        "09:00:00+01:00",
    ]  # fmt: skip


def test_a_tick_on_the_spring_forward_night_s_missing_time_does_not_fire(at: Any) -> None:
    stepline = at(datetime(2030, 3, 29, 12, 0, tzinfo=UTC))
    stepline.client.schedules.create("ticked", "30 2 * * *", "Europe/Paris", key="night")
    stepline.advance(days=3)
    assert [o["timestamp"] for o in outputs_of(stepline, "ticked")] == [
        "2030-03-30T02:30:00+01:00",
        "2030-04-01T02:30:00+02:00",  # none on March 31: 02:30 did not happen
    ]


def test_a_tick_on_the_fall_back_night_s_repeated_time_fires_once(at: Any) -> None:
    stepline = at(datetime(2030, 10, 26, 12, 0, tzinfo=UTC))
    stepline.client.schedules.create("ticked", "30 2 * * *", "Europe/Paris", key="night")
    stepline.advance(days=2)
    ticks = [o["timestamp"] for o in outputs_of(stepline, "ticked")]
    assert ticks == ["2030-10-27T02:30:00+02:00", "2030-10-28T02:30:00+01:00"]


def outputs_of(stepline: InProcessStepline, workflow_id: str) -> list[dict[str, Any]]:
    runs = stepline.client.list_executions(workflow_id=workflow_id)
    return sorted((json.loads(r.output or "null") for r in runs), key=lambda o: o["timestamp"])


def test_ticks_over_a_running_execution_are_skipped_and_shown(at: Any) -> None:
    stepline = at(datetime(2030, 1, 7, 10, 0, tzinfo=UTC), "tests.apps.overlapping")
    stepline.advance(minutes=65)
    # slow-tick takes 25 minutes: 10:10 runs (to 10:35), 10:20 and 10:30 are skipped, 10:40
    # runs (to 11:05), 10:50 and 11:00 are skipped.
    ran = [o[11:16] for o in outputs(stepline, "slow-tick")]
    assert ran == ["10:10", "10:40"]
    [slow] = stepline.client.schedules.list("slow-tick")
    assert (slow.record.skipped, slow.to_dict()["last_skipped"]) == (4, "2030-01-07T11:00:00+00:00")
    # side-by-side allows overlap: every tick started one (the last ones still run)
    runs = stepline.client.list_executions(workflow_id="side-by-side")
    assert len(runs) == 6


def test_a_schedule_created_at_run_time_fires_until_paused_and_after_resumed(at: Any) -> None:
    stepline = at(datetime(2030, 1, 7, 10, 0, tzinfo=UTC))
    stepline.client.schedules.create("ticked", "*/15 * * * *", key="quarter")
    stepline.advance(minutes=30)  # 10:15, 10:30
    stepline.client.schedules.pause("ticked", "quarter")
    stepline.advance(minutes=30)  # 10:45, 11:00: paused
    stepline.client.schedules.resume("ticked", "quarter")
    stepline.advance(minutes=15)  # 11:15
    stepline.client.schedules.delete("ticked", "quarter")
    stepline.advance(minutes=30)  # gone
    ticks = [o["timestamp"][11:16] for o in outputs_of(stepline, "ticked")]
    assert ticks == ["10:15", "10:30", "11:15"]
    last = [o["last"] for o in outputs_of(stepline, "ticked")]
    assert last == [None, "2030-01-07T10:15:00+00:00", "2030-01-07T10:30:00+00:00"]
