"""Cost per step: Stepline beside AWS's durable-execution test runner and DBOS on SQLite.

Sequential workflows of 10, 100 and 1000 trivial steps and one 50-way gather, on
Stepline's in-memory journal, on Stepline with DynamoDB in moto (in-process), and
on the peers, in the same run on the same machine. For Stepline on moto it also
counts DynamoDB requests and write units per step (botocore event hooks) and the
CPU time of replaying a recorded step.

    python benchmarks/steps.py [--json] [--quick] [--systems a,b]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.dynamo_meter import DynamoMeter  # noqa: E402
from sdk import App, Client, Engine, InlineInvoker, MemoryJournal, WorkflowContext, workflow  # noqa: E402
from sdk.journal import ExecutionRecord, ExecutionStatus, Journal  # noqa: E402

CASES = [("sequential", 10), ("sequential", 100), ("sequential", 1000), ("gather", 50)]
REPEATS = {10: 21, 50: 9, 100: 7, 1000: 3}
PEERS = {
    "aws-durable-testing": "benchmarks.peers.aws_durable",
    "dbos-sqlite": "benchmarks.peers.dbos_sqlite",
}
TABLE = "stepline-bench"


CALLS = [0]  # how many times a step body really ran


def trivial(i: int) -> int:
    CALLS[0] += 1
    return i


@workflow(id="sequential")
async def sequential(ctx: WorkflowContext, n: int) -> int:
    for i in range(n):
        await ctx.step.run(f"s{i}", trivial, i)
    return n


@workflow(id="gather")
async def gather(ctx: WorkflowContext, n: int) -> int:
    await asyncio.gather(*(ctx.step.run(f"s{i}", trivial, i) for i in range(n)))
    return n


APP = App([sequential, gather])


def stepline_client(journal: Journal, *, live_steps: bool = False) -> Client:
    return Client(APP, journal, InlineInvoker(Engine(APP, journal, live_steps=live_steps)))


def time_stepline(client: Client, kind: str, n: int) -> float:
    start = time.perf_counter()
    assert client.invoke(kind, n).result(timeout=600) == n
    return time.perf_counter() - start


def median_ms_per_step(run: Callable[[str, int], float], kind: str, n: int, repeats: int) -> float:
    run(kind, n)  # warm-up: imports, caches, first connections
    return round(statistics.median(run(kind, n) for _ in range(repeats)) * 1000 / n, 4)


def replay_cpu_us_per_step(client: Client, journal: Journal, n: int) -> float:
    """CPU time of an invocation that replays ``n`` recorded steps, per step."""
    handle = client.invoke("sequential", n)
    handle.result(timeout=600)
    source = journal.get_execution(handle.id)
    samples = []
    for i in range(5):
        # A suspended execution resuming: its first invocation recorded every step.
        copy = ExecutionRecord(
            execution_id=f"replay-{handle.id}-{i}",
            workflow_id=source.workflow_id,
            status=ExecutionStatus.SUSPENDED,
            created_at=source.created_at,
            input=source.input,
            attempt=1,
        )
        journal.create_execution(copy)
        for step in journal.load_steps(handle.id).values():
            journal.record_step(copy.execution_id, step, now=copy.created_at)
        invocation = Engine(APP, journal).start(copy.execution_id)
        assert not isinstance(invocation, type(None))
        calls = CALLS[0]
        start = time.process_time()
        outcome = asyncio.run(invocation.run())  # type: ignore[union-attr]
        samples.append(time.process_time() - start)
        assert outcome.status == "completed", outcome
        assert CALLS[0] == calls, "a recorded step ran again instead of being replayed"
    return round(statistics.median(samples) * 1e6 / n, 2)


@contextlib.contextmanager
def moto_journal() -> Iterator[tuple[Journal, DynamoMeter]]:
    import boto3
    from moto import mock_aws

    from sdk.journal.dynamodb import DynamoJournal, client_config
    from sdk.journal.schema import table_definition

    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        os.environ.setdefault(name, "bench")
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1", config=client_config())
        client.create_table(**table_definition(TABLE))
        yield DynamoJournal(client, TABLE), DynamoMeter(client)


def bench_stepline_memory(quick: bool) -> dict[str, Any]:
    client = stepline_client(MemoryJournal())
    return {
        f"{kind}-{n}": {"ms_per_step": median_ms_per_step(
            lambda k, m: time_stepline(client, k, m), kind, n, 1 if quick else REPEATS[n])}
        for kind, n in CASES
    }  # fmt: skip


def bench_stepline_moto(quick: bool, *, live_steps: bool = False) -> dict[str, Any]:
    """Stepline on moto; with ``live_steps`` every step's start is marked for live
    lifecycle streams (STEPLINE_LIVE_STEPS=true)."""
    results: dict[str, Any] = {}
    with moto_journal() as (journal, counter):
        client = stepline_client(journal, live_steps=live_steps)
        for kind, n in CASES:
            run = lambda k, m: time_stepline(client, k, m)  # noqa: E731
            entry: dict[str, Any] = {
                "ms_per_step": median_ms_per_step(run, kind, n, 1 if quick else REPEATS[n])
            }
            counter.reset()
            run(kind, n)
            entry.update(
                write_requests_per_step=round(counter.writes / n, 4),
                read_requests_per_step=round(counter.reads / n, 4),
                write_units_per_step=round(counter.write_units / n, 4),
                requests_per_workflow=dict(sorted(counter.requests.items())),
            )
            results[f"{kind}-{n}"] = entry
        if not live_steps:
            results["replay_cpu_us_per_step"] = replay_cpu_us_per_step(client, journal, 1000)
    return results


def bench_peer(name: str, quick: bool, workdir: Path) -> dict[str, Any]:
    try:
        module = importlib.import_module(PEERS[name])
    except ImportError as exc:
        return {"error": f"not installed ({exc.name}); pip install -e '.[bench]'"}
    peer = module.Peer(workdir)
    try:
        return {
            f"{kind}-{n}": {"ms_per_step": median_ms_per_step(
                peer.run, kind, n, 1 if quick else REPEATS[n])}
            for kind, n in CASES
        }  # fmt: skip
    finally:
        peer.close()


def machine() -> dict[str, Any]:
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
    }


def verdict(results: dict[str, Any]) -> dict[str, Any]:
    moto = results["stepline-moto"]["sequential-1000"]
    ours = moto["ms_per_step"]
    peers = {
        name: results[name]["sequential-1000"]["ms_per_step"]
        for name in PEERS
        if "sequential-1000" in results.get(name, {})
    }
    return {
        "faster_than_peers_at_1000": bool(peers)
        and all(ours < theirs for theirs in peers.values()),
        "write_requests_per_step_at_1000_le_1.01": moto["write_requests_per_step"] <= 1.01,
        "replay_cpu_us_per_step_le_20": results["stepline-moto"]["replay_cpu_us_per_step"] <= 20,
        **(
            {"live_write_units_per_step_at_1000_le_2.01": live["write_units_per_step"] <= 2.01}
            if (live := results.get("stepline-moto-live", {}).get("sequential-1000"))
            else {}
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--quick", action="store_true", help="one repetition per case")
    parser.add_argument(
        "--systems",
        default="stepline-memory,stepline-moto,stepline-moto-live," + ",".join(PEERS),
    )
    args = parser.parse_args()
    wanted = args.systems.split(",")
    results: dict[str, Any] = {"machine": machine()}
    if "stepline-memory" in wanted:
        results["stepline-memory"] = bench_stepline_memory(args.quick)
    if "stepline-moto" in wanted:
        results["stepline-moto"] = bench_stepline_moto(args.quick)
    if "stepline-moto-live" in wanted:
        results["stepline-moto-live"] = bench_stepline_moto(args.quick, live_steps=True)
    with tempfile.TemporaryDirectory() as workdir:
        for name in PEERS:
            if name in wanted:
                results[name] = bench_peer(name, args.quick, Path(workdir))
    if "stepline-moto" in results:
        results["checks"] = verdict(results)
    if args.json:
        print(json.dumps(results))
    else:
        print_table(results)


def print_table(results: dict[str, Any]) -> None:
    systems = [name for name in results if name not in ("machine", "checks")]
    print(
        f"ms per step (median); {results['machine']['platform']}, {results['machine']['cpus']} cpus"
    )
    print(f"{'case':<16}" + "".join(f"{name:>22}" for name in systems))
    for kind, n in CASES:
        row = [results[name].get(f"{kind}-{n}", {}).get("ms_per_step", "-") for name in systems]
        print(f"{kind + '-' + str(n):<16}" + "".join(f"{str(v):>22}" for v in row))
    moto = results.get("stepline-moto")
    if moto:
        at = moto["sequential-1000"]
        print(
            f"stepline-moto, 1000 steps: {at['write_requests_per_step']} write requests/step, "
            f"{at['read_requests_per_step']} read requests/step, "
            f"{at['write_units_per_step']} write units/step; "
            f"replay {moto['replay_cpu_us_per_step']} us CPU/step"
        )
    live = results.get("stepline-moto-live")
    if live:
        at = live["sequential-1000"]
        print(
            f"stepline-moto-live (STEPLINE_LIVE_STEPS=true), 1000 steps: "
            f"{at['write_requests_per_step']} write requests/step, "
            f"{at['write_units_per_step']} write units/step"
        )
    if moto:
        print("checks:", json.dumps(results["checks"]))


if __name__ == "__main__":
    main()
