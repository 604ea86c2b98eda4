"""The emulator's start-to-ready time and invoke-to-result latency through its HTTP API.

Targets (issue 3): ready in under 3 s; median invoke-to-result of a 3-step
workflow under 50 ms (POST /workflows/{id}/invoke, then GET /executions/{id}
every 2 ms with ``?steps=false`` until it is completed; warm environments).

    python benchmarks/emulator.py [--runs 50] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from infra.template import synth  # noqa: E402
from local_emulator.api_client import ApiClient  # noqa: E402
from local_emulator.emulator import Emulator  # noqa: E402

APP = ["benchmarks.emulator_app"]
POLL_SECONDS = float(os.environ.get("STEPLINE_BENCH_POLL", "0.002"))


def cli_start_to_ready(port: int) -> float:
    """Seconds from launching ``stepline dev`` to its ready line (imports included)."""
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "local_emulator.cli", "dev", "--app", APP[0], "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        cwd=ROOT,
    )
    try:
        assert process.stdout is not None
        for line in process.stdout:
            if line.startswith("Stepline emulator ready"):
                return time.perf_counter() - started
        raise RuntimeError("stepline dev ended before it was ready")
    finally:
        process.terminate()
        process.wait(timeout=30)


def invoke_to_result_ms(api: ApiClient) -> float:
    started = time.perf_counter()
    execution_id = api.invoke("three-steps", 1)["execution_id"]
    while True:
        execution = api.execution(execution_id, steps=False)
        if execution["status"] == "completed":
            elapsed = (time.perf_counter() - started) * 1000
            assert execution["output"] == 4
            return elapsed
        if execution["status"] == "failed":
            raise RuntimeError(execution["error"])
        time.sleep(POLL_SECONDS)


def measure(runs: int) -> dict[str, float]:
    cli_ready = statistics.median(cli_start_to_ready(18765 + i) for i in range(3))
    with Emulator(synth(APP), workdir=str(ROOT)) as emulator:
        assert emulator.endpoints is not None
        api = ApiClient(emulator.endpoints.api)
        for _ in range(5):  # warm the API and runner environments
            invoke_to_result_ms(api)
        samples = sorted(invoke_to_result_ms(api) for _ in range(runs))
        return {
            "emulator_start_to_ready_s": round(emulator.ready_seconds, 3),
            "cli_start_to_ready_s": round(cli_ready, 3),
            "invoke_to_result_median_ms": round(statistics.median(samples), 2),
            "invoke_to_result_p90_ms": round(samples[int(len(samples) * 0.9) - 1], 2),
            "runs": runs,
            "cpus": os.cpu_count() or 0,
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = measure(args.runs)
    if args.json:
        print(json.dumps(result))
        return
    print(f"Emulator.start() to ready:      {result['emulator_start_to_ready_s']} s (target < 3 s)")
    print(f"`stepline dev` launch to ready: {result['cli_start_to_ready_s']} s")
    print(
        f"invoke-to-result, 3 steps:      median {result['invoke_to_result_median_ms']} ms, "
        f"p90 {result['invoke_to_result_p90_ms']} ms over {result['runs']} runs (target < 50 ms)"
    )


if __name__ == "__main__":
    main()
