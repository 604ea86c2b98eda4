"""Batched handlers in the emulator: 1000 events to a topic with an immediate and a
batched handler (batch size 10, window 2 s).

Targets (issue 11): 1000 immediate executions; every event in exactly one batch. Printed:
the number of batches, their sizes, and the delay from an event's publication to the
start of its batch's execution. The cost of an event on AWS is in docs/costs.md
(``benchmarks/costs.py``).

    python benchmarks/batches.py [--events 1000] [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.batches_app import batched  # noqa: E402
from infra.template import synth  # noqa: E402
from local_emulator.api_client import ApiClient  # noqa: E402
from local_emulator.emulator import Emulator  # noqa: E402
from sdk.journal.dynamodb import DynamoJournal  # noqa: E402
from sdk.journal.records import ExecutionRecord, ExecutionStatus  # noqa: E402

APP = ["benchmarks.batches_app"]
TOPIC = "bench/clicks"
PUBLISHERS = 8
PATIENCE_SECONDS = 600


def completed(journal: DynamoJournal, workflow_id: str, limit: int) -> list[ExecutionRecord]:
    return journal.list_executions(
        workflow_id=workflow_id, status=ExecutionStatus.COMPLETED, limit=limit
    )


def wait_for(journal: DynamoJournal, count: int) -> tuple[list[ExecutionRecord], float]:
    """The completed batches once every event is in one and every immediate run is done."""
    started = time.perf_counter()
    while True:
        batches = completed(journal, "bench-batched", 2 * count)
        in_batches = sum(batch_size(journal, b) for b in batches)
        immediate = len(completed(journal, "bench-immediate", 2 * count))
        if in_batches >= count and immediate >= count:
            return batches, time.perf_counter() - started
        if time.perf_counter() - started > PATIENCE_SECONDS:
            raise TimeoutError(f"{immediate} immediate runs, {in_batches} events in batches")
        time.sleep(0.5)


_sizes: dict[str, int] = {}


def batch_size(journal: DynamoJournal, record: ExecutionRecord) -> int:
    if record.execution_id not in _sizes:
        _sizes[record.execution_id] = int(journal.get_execution(record.execution_id).output or 0)
    return _sizes[record.execution_id]


def measure(count: int) -> dict[str, Any]:
    with Emulator(synth(APP), workdir=str(ROOT)) as emulator:
        assert emulator.endpoints is not None and emulator.stack is not None
        api = ApiClient(emulator.endpoints.api)
        journal = DynamoJournal(emulator.client("dynamodb"), emulator.stack.table_name)
        started = time.perf_counter()
        with ThreadPoolExecutor(PUBLISHERS) as pool:
            published = list(pool.map(lambda i: api.publish(TOPIC, {"i": i}), range(count)))
        publish_s = time.perf_counter() - started
        batches, settle_s = wait_for(journal, count)
        events: Counter[str] = Counter()
        delays: list[float] = []
        for record in batches:
            loaded = journal.load_values(journal.get_execution(record.execution_id))
            payload = batched.decode_input(loaded.input)
            assert loaded.started_at is not None
            for event in payload.events:
                events[event.id] += 1
                assert event.created_at is not None
                delays.append((loaded.started_at - event.created_at).total_seconds())
        immediate = len(journal.list_executions(workflow_id="bench-immediate", limit=3 * count))
    delays.sort()
    sizes = Counter(batch_size(journal, b) for b in batches)
    return {
        "events": count,
        "publish_per_s": round(count / publish_s, 1),
        "immediate_executions": immediate,
        "batches": len(batches),
        "batch_sizes": dict(sorted(sizes.items())),
        "event_to_batch_start_median_s": round(statistics.median(delays), 3),
        "event_to_batch_start_p90_s": round(delays[int(len(delays) * 0.9) - 1], 3),
        "event_to_batch_start_max_s": round(delays[-1], 3),
        "seconds_after_publishing_until_settled": round(settle_s, 1),
        "checks": {
            "one_immediate_execution_per_event": immediate == count,
            "every_event_in_exactly_one_batch": events == Counter({p["id"]: 1 for p in published}),
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = measure(args.events)
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(
        f"{result['events']} events to a topic with an immediate and a batched handler "
        f"(size 10, window 2 s), published {result['publish_per_s']}/s:\n"
        f"  {result['immediate_executions']} immediate executions; {result['batches']} batches, "
        f"sizes {result['batch_sizes']}\n"
        f"  event -> its batch's start: median {result['event_to_batch_start_median_s']} s, "
        f"p90 {result['event_to_batch_start_p90_s']} s, "
        f"max {result['event_to_batch_start_max_s']} s\n"
        f"  checks: {result['checks']}"
    )


if __name__ == "__main__":
    main()
