"""Lifecycle streams in the emulator: how soon a following reader gets a step's end.

A workflow of 50-ms steps runs in the emulator while ``stream_workflow`` follows it the
way page 000 does (no client: the HTTP API's long poll, from ``STEPLINE_ENDPOINT``). For
every ``step_finish`` the delay is the time the reader got it minus the event's
``created_at`` (when the step ended, on the same machine's clock). Target (issue 12):
median under 200 ms.

    python benchmarks/lifecycle_stream.py [--runs 5] [--steps 20] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from infra.template import synth  # noqa: E402
from local_emulator.api_client import ApiClient  # noqa: E402
from local_emulator.emulator import Emulator  # noqa: E402
from sdk.events import stream_workflow  # noqa: E402
from sdk.journal.records import parse_iso  # noqa: E402

APP = ["benchmarks.stream_app"]


async def follow(execution_id: str) -> list[float]:
    """Follow one run to its end; ms from each step's end to the reader getting it."""
    delays = []
    async for event in stream_workflow(workflow_run_id=execution_id):
        got = datetime.now(UTC)
        if event.event_type == "step_finish":
            delays.append((got - parse_iso(event.created_at)).total_seconds() * 1000)
    return delays


def run(runs: int, steps: int) -> dict[str, Any]:
    with Emulator(synth(APP), workdir=str(ROOT)) as emulator:
        assert emulator.endpoints is not None
        os.environ["STEPLINE_ENDPOINT"] = emulator.endpoints.api
        os.environ.pop("STEPLINE_TABLE", None)
        api = ApiClient(emulator.endpoints.api)
        delays: list[float] = []
        for _ in range(runs):
            execution_id = api.invoke("stream-bench", steps)["execution_id"]
            delays += asyncio.run(follow(execution_id))
    delays.sort()
    return {
        "runs": runs,
        "steps_per_run": steps,
        "events": len(delays),
        "median_ms": round(statistics.median(delays), 1),
        "p90_ms": round(delays[int(len(delays) * 0.9) - 1], 1),
        "max_ms": round(delays[-1], 1),
        "target_median_ms": 200,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = run(args.runs, args.steps)
    if args.json:
        print(json.dumps(result))
        return
    print(
        f"step end -> stream_workflow reader (emulator, HTTP long poll): median "
        f"{result['median_ms']} ms, p90 {result['p90_ms']} ms, max {result['max_ms']} ms "
        f"over {result['events']} steps (target: median < 200 ms)"
    )


if __name__ == "__main__":
    main()
