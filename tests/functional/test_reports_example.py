"""The daily report example (examples/reports.py), as a user tests it: the ``stepline``
fixture starts its virtual clock on a chosen day, and ``advance`` runs each 09:00 Paris tick."""

from __future__ import annotations

from typing import Any

import pytest

from examples.reports import daily_report


@pytest.mark.stepline(start="2030-03-29T12:00:00+00:00")  # a Friday; summer time on Sunday
def test_the_daily_report_runs_at_nine_in_paris_every_day(stepline: Any) -> None:
    stepline.advance(days=3)
    runs = stepline.client.list_executions(workflow_id=daily_report.id)
    reports = sorted(stepline.client.output_of(run) for run in runs)
    assert reports == [
        "report for 2030-03-30: {'orders': 12, 'signups': 4}",
        "report for 2030-03-31: {'orders': 12, 'signups': 4}",
        "report for 2030-04-01: {'orders': 12, 'signups': 4}",
    ]
    [schedule] = stepline.client.schedules.list(daily_report)
    assert schedule.to_dict()["next"] == [
        "2030-04-02T09:00:00+02:00",
        "2030-04-03T09:00:00+02:00",
        "2030-04-04T09:00:00+02:00",
    ]
