"""The template's recurring schedules fire in the emulator (the sweeper, sped up for tests),
and so do the app's schedules, declared and created through the API."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from infra.template import synth
from local_emulator.api_client import ApiClient
from local_emulator.emulator import Emulator
from local_emulator.scheduler.expressions import Rate
from sdk.clock import VirtualClock

ROOT = Path(__file__).resolve().parents[2]
# moto's state outlives an emulator in this process: a stack name of its own.
STACK = "sweeps"
pytestmark = pytest.mark.slow


def test_the_sweeper_fires_at_the_interval_the_emulator_was_given() -> None:
    template = synth(["examples"])
    with Emulator(template, workdir=str(ROOT), stack_name=STACK, sweep_interval=0.2) as emulator:
        assert emulator.recurring is not None and emulator.lambdas is not None
        [sweep] = [s for s in emulator.recurring.schedules if s.name == "SweeperFunctionSweep"]
        assert sweep.name == "SweeperFunctionSweep"
        assert sweep.function.endswith(f":function:{STACK}-sweeper")
        assert sweep.when == Rate(timedelta(seconds=0.2))
        sweeper = emulator.lambdas.pool(f"{STACK}-sweeper")
        give_up = time.monotonic() + 30
        while emulator.recurring.fired[sweep.name] < 3 or sweeper.cold_starts == 0:
            assert time.monotonic() < give_up, "the sweeper was not fired three times"
            time.sleep(0.01)


def _wait_for(condition: Callable[[], Any], what: str, limit: float = 60) -> Any:
    give_up = time.monotonic() + limit
    while True:
        found = condition()
        if found:
            return found
        assert time.monotonic() < give_up, f"timed out waiting for {what}"
        time.sleep(0.02)


def test_declared_and_runtime_schedules_fire_in_the_emulator_on_its_clock() -> None:
    """`stepline dev` fires the template's schedules and those created through the API; here
    on a virtual clock the test moves, so nothing waits for a real minute."""
    clock = VirtualClock(datetime(2030, 1, 7, 7, 30, tzinfo=UTC))  # Monday, 08:30 in Paris
    template = synth(["tests.apps.schedules"])
    with Emulator(
        template, workdir=str(ROOT), stack_name="ticks", schedule_clock=clock
    ) as emulator:
        assert emulator.endpoints is not None and emulator.scheduler is not None
        api = ApiClient(emulator.endpoints.api)
        created = api.create_schedule("ticked", "*/5 * * * *", "UTC", "five", "skip")
        assert created["expression"] == "cron(0/5 * * * ? *)"
        scheduler = emulator.scheduler
        _wait_for(lambda: any(scheduler.upcoming().values()), "the runtime schedule to be seen")
        # Past the runtime tick at 07:35 UTC and the declared one at 09:00 in Paris (08:00 UTC);
        # a schedule the clock jumped past fires once, at its first missed time.
        clock.advance(minutes=35)

        def finished(workflow_id: str) -> list[dict[str, Any]]:
            runs = api.executions(workflow_id, "completed", 10)
            return runs

        [ticked] = _wait_for(lambda: finished("ticked"), "the runtime schedule's execution")
        assert api.execution(ticked["execution_id"])["output"]["timestamp"] == (
            "2030-01-07T07:35:00+00:00"
        )
        [report] = _wait_for(lambda: finished("weekday-report"), "the declared schedule's run")
        assert api.execution(report["execution_id"])["output"] == "2030-01-07T09:00:00+01:00"
        [listed] = [s for s in api.schedules("ticked")]
        assert listed["last_timestamp"] == "2030-01-07T07:35:00+00:00"
