"""Fan-in cost: runner invocations for ``batch_invoke_and_wait`` of N children.

Each invocation runs the way Lambda's asynchronous invocations do: queued, one at a time,
after the invocation that asked for it ended (so children finish while their parent is
suspended, the costly case). DynamoDB in moto, in-process. The budget (issue 7, DESIGN
section 7) is at most N + 3 runner invocations in all, O(N), never O(N^2).

    python benchmarks/children.py [--width 100] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import boto3  # noqa: E402
from moto import mock_aws  # noqa: E402

from sdk import App, Client, Engine, WorkflowContext, workflow  # noqa: E402
from sdk.journal.dynamodb import DynamoJournal, client_config  # noqa: E402
from sdk.journal.schema import table_definition  # noqa: E402

TABLE = "stepline-bench"


def double(n: int) -> int:
    return 2 * n


@workflow(id="bench-child")
async def bench_child(ctx: WorkflowContext, n: int) -> int:
    return int(await ctx.step.run("double", double, n))


@workflow(id="bench-fan-in")
async def bench_fan_in(ctx: WorkflowContext, width: int) -> int:
    items = [(bench_child, i) for i in range(width)]
    return sum(await ctx.step.batch_invoke_and_wait("children", items))


class Queue:
    """Asynchronous invocations, queued until the current one has ended."""

    def __init__(self) -> None:
        self.pending: list[str] = []

    def invoke_async(self, execution_id: str) -> None:
        self.pending.append(execution_id)


def measure(width: int) -> dict[str, Any]:
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name="us-east-1", config=client_config())
        dynamodb.create_table(**table_definition(TABLE))
        journal = DynamoJournal(dynamodb, TABLE)
        app = App([bench_fan_in, bench_child])
        queue = Queue()
        engine = Engine(app, journal, invoker=queue)
        handle = Client(app, journal, queue).invoke(bench_fan_in, width)
        runs: Counter[str] = Counter()
        statuses: Counter[str] = Counter()
        started = time.perf_counter()
        while queue.pending:
            execution_id = queue.pending.pop(0)
            runs["parent" if execution_id == handle.id else "children"] += 1
            statuses[asyncio.run(engine.run(execution_id)).status] += 1
        seconds = time.perf_counter() - started
        record = journal.get_execution(handle.id)
        assert record.status.value == "completed", record
        assert json.loads(record.output or "0") == sum(2 * i for i in range(width))
    total = runs["parent"] + runs["children"]
    return {
        "width": width,
        "runner_invocations": total,
        "parent_invocations": runs["parent"],
        "child_invocations": runs["children"],
        "budget": width + 3,
        "within_budget": total <= width + 3,
        "outcomes": dict(statuses),
        "seconds": round(seconds, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--width", type=int, default=100)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = measure(args.width)
    if args.json:
        print(json.dumps(result))
        return
    print(
        f"batch_invoke_and_wait of {result['width']} children: "
        f"{result['runner_invocations']} runner invocations "
        f"({result['parent_invocations']} of the parent, {result['child_invocations']} of "
        f"children); budget {result['budget']}: "
        f"{'met' if result['within_budget'] else 'MISSED'}; {result['seconds']} s"
    )


if __name__ == "__main__":
    main()
