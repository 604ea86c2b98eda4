"""Topic events in the emulator: publish-to-first-step latency, and a burst of 1000.

Targets (issue 10): median under 100 ms from publishing an event (``POST
/events/publish``) to the first step of the workflow it triggers; 1000 events published
concurrently to a topic with two handlers start exactly 2000 executions, and the topic's
sequence ids are 1..1000 with no gap. The cost of an event on AWS is in docs/costs.md
(``benchmarks/costs.py``).

    python benchmarks/events.py [--runs 50] [--burst 1000] [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from infra.template import synth  # noqa: E402
from local_emulator.api_client import ApiClient  # noqa: E402
from local_emulator.emulator import Emulator  # noqa: E402
from sdk.events.log import log_for  # noqa: E402
from sdk.events.publisher import triggered_id  # noqa: E402
from sdk.journal.dynamodb import DynamoJournal  # noqa: E402
from sdk.journal.records import ExecutionStatus  # noqa: E402

APP = ["benchmarks.events_app"]
POLL_SECONDS = 0.002
PUBLISHERS = 8


def first_step_ms(api: ApiClient, journal: DynamoJournal, n: int) -> float:
    """Publish one event; ms from the publish to its handler's first step starting."""
    sent = datetime.now(UTC)
    published = api.publish("bench/latency", {"n": n})
    execution_id = triggered_id("latency-handler", "bench/latency", published["id"])
    while True:
        step = journal.load_steps(execution_id).get("first")
        if step is not None and step.started_at is not None:
            return (step.started_at - sent).total_seconds() * 1000
        time.sleep(POLL_SECONDS)


def burst(api: ApiClient, journal: DynamoJournal, count: int) -> dict[str, Any]:
    """``count`` events published at once by ``PUBLISHERS`` threads to a two-handler topic."""
    started = time.perf_counter()
    with ThreadPoolExecutor(PUBLISHERS) as pool:
        results = list(pool.map(lambda i: api.publish("bench/orders", {"i": i}), range(count)))
    published_s = time.perf_counter() - started
    while True:
        done = sum(
            len(journal.list_executions(workflow_id=wf, status=ExecutionStatus.COMPLETED,
                                        limit=2 * count))
            for wf in ("orders-a", "orders-b")
        )  # fmt: skip
        if done >= 2 * count:
            break
        time.sleep(0.2)
    finished_s = time.perf_counter() - started
    log = log_for(journal)
    assert log is not None
    sequence = [e.sequence_id for e in log.read("bench/orders", limit=count + 10)]
    executions = sum(
        len(journal.list_executions(workflow_id=wf, limit=3 * count))
        for wf in ("orders-a", "orders-b")
    )
    return {
        "events": count,
        "executions": executions,
        "sequence_ids_gap_free": sequence == list(range(1, count + 1)),
        "duplicates_reported": sum(r["duplicate"] for r in results),
        "publish_per_s": round(count / published_s, 1),
        "executions_completed_per_s": round(2 * count / finished_s, 1),
        "seconds": round(finished_s, 2),
    }


def measure(runs: int, count: int) -> dict[str, Any]:
    with Emulator(synth(APP), workdir=str(ROOT)) as emulator:
        assert emulator.endpoints is not None and emulator.stack is not None
        api = ApiClient(emulator.endpoints.api)
        journal = DynamoJournal(emulator.client("dynamodb"), emulator.stack.table_name)
        for n in range(5):  # warm the API and runner environments
            first_step_ms(api, journal, n)
        samples = sorted(first_step_ms(api, journal, n) for n in range(runs))
        result: dict[str, Any] = {
            "publish_to_first_step_median_ms": round(statistics.median(samples), 2),
            "publish_to_first_step_p90_ms": round(samples[int(len(samples) * 0.9) - 1], 2),
            "runs": runs,
        }
        result["burst"] = burst(api, journal, count)
    result["checks"] = {
        "median_under_100_ms": result["publish_to_first_step_median_ms"] < 100,
        "one_execution_per_handler_and_event": result["burst"]["executions"] == 2 * count,
        "sequence_ids_gap_free": result["burst"]["sequence_ids_gap_free"],
    }
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--burst", type=int, default=1000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = measure(args.runs, args.burst)
    if args.json:
        print(json.dumps(result, indent=2))
        return
    b = result["burst"]
    print(
        f"publish -> first step: median {result['publish_to_first_step_median_ms']} ms, "
        f"p90 {result['publish_to_first_step_p90_ms']} ms ({result['runs']} runs)\n"
        f"{b['events']} events at once to a two-handler topic: {b['executions']} executions, "
        f"sequence ids gap-free: {b['sequence_ids_gap_free']}; published {b['publish_per_s']}/s, "
        f"executions completed {b['executions_completed_per_s']}/s ({b['seconds']} s)\n"
        f"checks: {result['checks']}"
    )


if __name__ == "__main__":
    main()
