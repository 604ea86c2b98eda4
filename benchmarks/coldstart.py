"""Cold-start cost of the runner handler, against the budget of DESIGN section 7.

Budget: ``import handlers.runner`` costs no more than ``import boto3,
aws_lambda_powertools`` plus 50 ms. Each figure is the median over fresh
interpreters of the total that ``python -X importtime`` reports (the sum of its
top-level entries).

    python benchmarks/coldstart.py [--runs 9] [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys

BASELINE = "boto3, aws_lambda_powertools"
TARGET = "handlers.runner"
BUDGET_MS = 50.0


def import_ms(modules: str) -> float:
    """Total import time of ``modules`` in a fresh interpreter, in ms."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"import {modules}"],
        capture_output=True,
        text=True,
        check=True,
    )
    total_us = 0
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _, cumulative, name = (part for part in line.split("|"))
        if not name.startswith("  "):  # top level: one space of padding only
            total_us += int(cumulative)
    return total_us / 1000


def measure(runs: int) -> dict[str, float]:
    base, target = [], []
    for _ in range(runs):  # interleaved, so a busy moment hits both
        base.append(import_ms(BASELINE))
        target.append(import_ms(TARGET))
    result = {
        "baseline_ms": round(statistics.median(base), 1),
        "runner_ms": round(statistics.median(target), 1),
    }
    result["overhead_ms"] = round(result["runner_ms"] - result["baseline_ms"], 1)
    result["budget_ms"] = BUDGET_MS
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = measure(args.runs)
    if args.json:
        print(json.dumps(result))
        return
    print(f"import {BASELINE}: {result['baseline_ms']} ms")
    print(f"import {TARGET}: {result['runner_ms']} ms")
    verdict = "within" if result["overhead_ms"] <= BUDGET_MS else "OVER"
    print(f"overhead: {result['overhead_ms']} ms ({verdict} the {BUDGET_MS:.0f} ms budget)")


if __name__ == "__main__":
    main()
