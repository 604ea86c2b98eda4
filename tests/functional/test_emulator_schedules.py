"""The template's recurring schedules fire in the emulator: the sweeper, sped up for tests."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

import pytest

from infra.template import synth
from local_emulator.emulator import Emulator
from local_emulator.scheduler.expressions import Rate

ROOT = Path(__file__).resolve().parents[2]
# moto's state outlives an emulator in this process: a stack name of its own.
STACK = "sweeps"
pytestmark = pytest.mark.slow


def test_the_sweeper_fires_at_the_interval_the_emulator_was_given() -> None:
    template = synth(["examples"])
    with Emulator(template, workdir=str(ROOT), stack_name=STACK, sweep_interval=0.2) as emulator:
        assert emulator.recurring is not None and emulator.lambdas is not None
        [sweep] = emulator.recurring.schedules
        assert sweep.name == "SweeperFunctionSweep"
        assert sweep.function.endswith(f":function:{STACK}-sweeper")
        assert sweep.when == Rate(timedelta(seconds=0.2))
        sweeper = emulator.lambdas.pool(f"{STACK}-sweeper")
        give_up = time.monotonic() + 30
        while emulator.recurring.fired[sweep.name] < 3 or sweeper.cold_starts == 0:
            assert time.monotonic() < give_up, "the sweeper was not fired three times"
            time.sleep(0.01)
