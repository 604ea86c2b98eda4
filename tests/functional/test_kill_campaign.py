"""The SIGKILL campaign: runner processes killed at random while workflows run in the emulator.

The emulator runs the runner in worker processes with a 5-second timeout (so a killed
invocation's lease expires soon) and the sweeper every 0.2 s. While a mix of workflows (steps,
a wait, children, ``gather``) runs, a seeded killer sends SIGKILL to runner processes that
are in the middle of an invocation. Lambda's retries, lease expiry and the sweeper must bring
every execution to its right end, no step body running more often than once plus the kills
that landed in its execution.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from infra.template import synth
from local_emulator.api_client import ApiClient
from local_emulator.emulator import Emulator

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow
FINISHED = {"completed", "failed", "cancelled"}


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    template = synth(["tests.apps.killable"], runner_timeout=5)
    with Emulator(template, workdir=str(ROOT), sweep_interval=0.2) as running:
        yield running


class Killer:
    """Kills a busy runner process every so often, and remembers whose invocation it was."""

    def __init__(self, emulator: Emulator, seed: int, kills: int) -> None:
        assert emulator.lambdas is not None
        self.pool = emulator.lambdas.pool("stepline-runner")
        self.rng = random.Random(seed)
        self.left = kills
        self.landed: Counter[str] = Counter()  # execution id -> kills while it ran
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while self.left and not self.stop.wait(self.rng.uniform(0.1, 0.4)):
            busy = self.pool.busy()
            if not busy:
                continue
            victim = self.rng.choice(busy)
            payload = victim.current
            victim.process.kill()
            if isinstance(payload, dict) and "execution_id" in payload:
                self.landed[payload["execution_id"]] += 1
            self.left -= 1

    def __enter__(self) -> Killer:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop.set()
        self.thread.join(timeout=5)


def _wait_all(api: ApiClient, ids: list[str], timeout: float) -> dict[str, dict[str, Any]]:
    give_up = time.monotonic() + timeout
    done: dict[str, dict[str, Any]] = {}
    while len(done) < len(ids):
        assert time.monotonic() < give_up, f"unfinished: {set(ids) - set(done)}"
        for execution_id in ids:
            if execution_id not in done:
                execution = api.execution(execution_id, steps=False)
                if execution["status"] in FINISHED:
                    done[execution_id] = execution
        time.sleep(0.05)  # polling the API for the condition, not waiting out a delay
    return done


@pytest.mark.parametrize("seed", [1, 2])
def test_killed_runner_processes_lose_and_duplicate_no_work(
    emulator: Emulator, tmp_path: Path, seed: int
) -> None:
    assert emulator.endpoints is not None
    api = ApiClient(emulator.endpoints.api)
    log = tmp_path / "runs.log"
    log.touch()
    jobs = [
        ("k-chain", {"log": str(log), "steps": 12}, sum(range(12))),
        ("k-chain", {"log": str(log), "steps": 8}, sum(range(8))),
        ("k-napper", {"log": str(log)}, 3),
        ("k-parent", {"log": str(log)}, 2 + 10 + 4 + 6 + 8),
    ]
    with Killer(emulator, seed, kills=4) as killer:
        ids = [api.invoke(workflow, job)["execution_id"] for workflow, job, _ in jobs]
        finished = _wait_all(api, ids, timeout=120)
    runs = Counter(tuple(line.split()) for line in log.read_text().splitlines())
    assert killer.left < 4, "the killer never found a busy runner"
    for execution_id, (workflow, _, output) in zip(ids, jobs, strict=True):
        execution = finished[execution_id]
        if killer.landed[execution_id] >= 3 and execution["status"] == "failed":
            assert execution["error"]["type"] == "stepline:InvocationsDied"
            continue
        assert (execution["status"], execution["output"]) == ("completed", output), (
            workflow, execution.get("error"), dict(killer.landed))  # fmt: skip
    for (execution_id, key), count in runs.items():
        assert count <= 1 + killer.landed[execution_id], (execution_id, key, count)
