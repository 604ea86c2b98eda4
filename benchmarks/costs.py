"""What a step and a workflow cost on AWS, from requests counted while they run.

Workflows run in-process on DynamoDB in moto, each runner invocation queued and run
the way Lambda's asynchronous invocations are, timers fired on a virtual clock. The
benchmark counts what each one asks of AWS: DynamoDB requests with the capacity units
DynamoDB reports for them, runner invocations, wake-ups by route (SQS delay queue for
waits up to 15 minutes, EventBridge Scheduler beyond), and the CPU time of the
runner's own work. Prices are AWS list prices (us-east-1, ``PRICES``); Lambda's billed
time is modelled (``LAMBDA_MODEL``), since it is mostly spent waiting on DynamoDB.

    python benchmarks/costs.py [--json] [--markdown docs/costs.md]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import boto3  # noqa: E402
from moto import mock_aws  # noqa: E402

from benchmarks.dynamo_meter import DynamoMeter  # noqa: E402
from examples.orders import process_order  # noqa: E402
from handlers.lifecycle import LifecyclePublisher, process  # noqa: E402
from local_emulator.dynamodb.streams import StreamReader, streams_client  # noqa: E402
from sdk import (  # noqa: E402
    App,
    BatchEventPayload,
    Client,
    Engine,
    EventPayload,
    SchedulePayload,
    WorkflowContext,
    workflow,
)
from sdk.clock import VirtualClock  # noqa: E402
from sdk.events.batches import Batcher  # noqa: E402
from sdk.events.log import log_for  # noqa: E402
from sdk.events.publisher import Publisher, triggered_id  # noqa: E402
from sdk.events.windows import ManualBatchWindows  # noqa: E402
from sdk.journal.dynamodb import DynamoJournal, client_config  # noqa: E402
from sdk.journal.schema import table_definition  # noqa: E402
from sdk.lifecycle.bus import BusLevel, BusPublisher  # noqa: E402
from sdk.schedules.ticks import Ticker, TickRequest, tick_execution_id  # noqa: E402
from sdk.timers import ManualTimers  # noqa: E402

TABLE = "stepline-costs"
SQS_MAX_DELAY = timedelta(minutes=15)  # sdk.aws_timers: shorter waits go through SQS
BUDGET_PER_MILLION_STEPS = 1.5

# AWS list prices, us-east-1, USD, read from the AWS pricing pages in November 2026.
PRICES = {
    "dynamodb_write_unit": 0.625e-6,  # on-demand, per write request unit
    "dynamodb_read_unit": 0.125e-6,  # on-demand, per read request unit
    "lambda_request": 0.20e-6,
    "lambda_gb_second_arm64": 0.0000133334,
    "lambda_gb_second_x86_64": 0.0000166667,
    "sqs_request": 0.40e-6,  # standard queue, per 64 KB request
    "scheduler_invocation": 1.00e-6,
    "eventbridge_event": 1.00e-6,  # custom events published
    "durable_functions_operation": 8.00e-6,  # AWS Lambda durable functions, per operation
    "step_functions_transition": 25.0e-6,  # Step Functions Standard, per state transition
}
# Lambda bills wall time. A runner invocation waits on each DynamoDB request (AWS quotes
# single-digit milliseconds; we take 8 ms, a pessimistic same-region figure) and does its
# own work on a fraction of a core (a 512 MB function gets about 0.3 vCPU, so the CPU time
# measured here, on a full core and including moto's own work, is multiplied by 3).
LAMBDA_MODEL = {
    "memory_gb": 0.5,
    "ms_per_dynamodb_request": 8.0,
    "cpu_slowdown": 3.0,
    "wakeups_function_ms": 20.0,  # the SQS wake-ups function: one Invoke per message
}
# The lifecycle publisher reads the journal's stream in batches of up to 100 records;
# we take an average of 10 records per invocation (light traffic: smaller batches), and
# the stream's reads are free when Lambda consumes them.
RECORDS_PER_PUBLISHER_INVOCATION = 10
PUBLISHER_BATCH = 100
# A wake-up through SQS: SendMessage by the runner, ReceiveMessage and DeleteMessage by
# Lambda's event source mapping (one of each per message at worst).
SQS_REQUESTS_PER_WAKEUP = 3


def trivial(i: int) -> int:
    return i


@workflow(id="cost-sequential")
async def sequential(ctx: WorkflowContext, n: int) -> int:
    for i in range(n):
        await ctx.step.run(f"s{i}", trivial, i)
    return n


@workflow(id="cost-child")
async def child(ctx: WorkflowContext, n: int) -> int:
    return int(await ctx.step.run("double", trivial, 2 * n))


@workflow(id="cost-wait-and-child")
async def wait_and_child(ctx: WorkflowContext, n: int) -> int:
    """Four steps, a 5-minute wait (SQS), a 1-hour wait (Scheduler) and a child."""
    await ctx.step.run("first", trivial, n)
    await ctx.step.wait_for("short", minutes=5)
    doubled = await ctx.step.invoke_and_wait("child", child, n)
    await ctx.step.wait_for("long", hours=1)
    await ctx.step.run("last", trivial, doubled)
    return int(doubled)


@workflow(id="cost-handler-a", trigger_on_event="cost/orders")
async def handler_a(ctx: WorkflowContext, event: EventPayload) -> int:
    return int(await ctx.step.run("note", trivial, event.sequence_id))


@workflow(id="cost-handler-b", trigger_on_event="cost/orders")
async def handler_b(ctx: WorkflowContext, event: EventPayload) -> int:
    return int(await ctx.step.run("note", trivial, event.sequence_id))


@workflow(id="cost-click", trigger_on_event="cost/clicks")
async def click(ctx: WorkflowContext, event: EventPayload) -> int:
    return int(await ctx.step.run("note", trivial, event.sequence_id))


@workflow(id="cost-clicks", trigger_on_event="cost/clicks", batch_size=10, batch_timeout_seconds=2)
async def clicks(ctx: WorkflowContext, batch: BatchEventPayload) -> int:
    return int(await ctx.step.run("note", trivial, len(batch.events)))


@workflow(id="cost-daily", schedule={"cron": "0 9 * * *", "timezone": "Europe/Paris"})
async def daily(ctx: WorkflowContext, tick: SchedulePayload) -> str:
    return str(await ctx.step.run("note", trivial, tick.timestamp.day))


APP = App(
    [sequential, child, wait_and_child, process_order, handler_a, handler_b, click, clicks, daily]
)
EVENT = "event"  # a scenario publishing one event instead of invoking a workflow
TICK = "tick"  # a scenario delivering one schedule tick (after a first one, as every day)
BATCHED_EVENTS = "batched events"  # a scenario publishing a batch's worth of events
BATCH = 10
# A batch through SQS: one SendMessageBatch per event by its publisher, then Lambda's event
# source mapping receives the batch and deletes it (one request each at best; its empty
# polls of an idle queue are not counted, see "Not counted").
SQS_REQUESTS_PER_BATCH = 2
SCENARIOS: list[tuple[str, str, Any, int]] = [
    # (name, workflow, payload, steps a user would count)
    ("1000 sequential steps", "cost-sequential", 1000, 1000),
    ("10 sequential steps", "cost-sequential", 10, 10),
    ("process-order (examples/orders.py)", "process-order", {"order_id": "o-1", "amount": 42}, 5),
    ("2 waits and a child", "cost-wait-and-child", 7, 5),
    ("an event to a topic with 2 handlers (1 step each)", EVENT, "cost/orders", 2),
    (
        f"{BATCH} events to a topic with an immediate and a batched handler (1 step each)",
        BATCHED_EVENTS,
        "cost/clicks",
        BATCH + 1,
    ),
    ("a schedule tick starting a 1-step workflow", TICK, "cost-daily", 1),
]


class CountingTimers(ManualTimers):
    """Timers on the virtual clock that remember which AWS route each would take."""

    def __init__(self, clock: VirtualClock) -> None:
        super().__init__()
        self.clock = clock
        self.routes: Counter[str] = Counter()

    def schedule(self, execution_id: str, key: str, wake_at: Any) -> None:
        route = "sqs" if wake_at - self.clock.now() <= SQS_MAX_DELAY else "scheduler"
        self.routes[route] += 1
        super().schedule(execution_id, key, wake_at)


class Queue:
    """Asynchronous invocations, run one at a time after the one that asked for them."""

    def __init__(self) -> None:
        self.pending: list[str] = []

    def invoke_async(self, execution_id: str) -> None:
        self.pending.append(execution_id)


def measure(workflow_id: str, payload: Any) -> dict[str, Any]:
    """Run one execution to the end and count what it asked of AWS."""
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name="us-east-1", config=client_config())
        dynamodb.create_table(**table_definition(TABLE))
        clock = VirtualClock()
        timers = CountingTimers(clock)
        queue = Queue()
        journal = DynamoJournal(dynamodb, TABLE)
        engine = Engine(APP, journal, clock, timers=timers, invoker=queue)
        meter = DynamoMeter(dynamodb)
        client = Client(APP, journal, queue, clock=clock)
        invocations, cpu, ticks, batches = 0, 0.0, 0, 0
        if workflow_id == EVENT:
            published = client.publish_event(payload, {"order_id": "o-1"})
            handlers = ("cost-handler-a", "cost-handler-b")
            ids = [triggered_id(wf, payload, published.id) for wf in handlers]
        elif workflow_id == BATCHED_EVENTS:
            log = log_for(journal, clock)
            assert log is not None
            batcher = Batcher(APP, journal, log, queue, clock)
            windows = ManualBatchWindows(APP, batcher.start, clock)
            client = Client(APP, journal, queue, clock=clock, batches=windows)
            for n in range(BATCH):
                client.publish_event(payload, {"n": n})
            batches = len(windows.deliveries)
            ids = list(queue.pending)
        elif workflow_id == TICK:
            cpu, ids = _tick(Ticker(APP, journal, queue, clock), engine, queue, meter, payload)
            ticks = 1
        else:
            ids = [client.invoke(workflow_id, payload).id]
        while True:
            while queue.pending:
                invocations += 1
                started = time.process_time()
                asyncio.run(engine.run(queue.pending.pop(0)))
                cpu += time.process_time() - started
            if not timers.advance(clock, timedelta(days=1), queue.invoke_async):
                break
        statuses = {journal.get_execution(i).status.value for i in ids}
        requests = dict(sorted(meter.requests.items()))
        units = {kind: round(meter.units[kind], 3) for kind in ("write", "read")}
        lifecycle = _lifecycle(dynamodb, journal, clock, queue, ids)
    assert statuses == {"completed"}, f"{workflow_id} ended {statuses}"
    return {
        **lifecycle,
        "dynamodb_requests": requests,
        "write_units": units["write"],
        "read_units": units["read"],
        "runner_invocations": invocations,
        "wakeups": dict(timers.routes) | ({"scheduler": ticks} if ticks else {}),
        "ticks": ticks,
        "cpu_ms": round(cpu * 1000, 2),
        "batch_invocations": batches,
    }


class _CountingBus:
    """An EventBridge client that counts what PutEvents is given (and accepts it)."""

    def __init__(self) -> None:
        self.entries = 0
        self.calls = 0

    def put_events(self, Entries: list[dict[str, Any]]) -> dict[str, Any]:  # noqa: N803
        self.entries += len(Entries)
        self.calls += 1
        return {"FailedEntryCount": 0, "Entries": [{"EventId": "x"} for _ in Entries]}


def _lifecycle(
    dynamodb: Any, journal: DynamoJournal, clock: VirtualClock, queue: Any, ids: list[str]
) -> dict[str, Any]:
    """What publishing the lifecycle events of ``ids`` (and their children) costs: their
    stream records, the bus entries at the default level and with every event, the
    publisher's CPU."""
    tree, pending = set(ids), list(ids)
    while pending:
        for child in journal.list_children(pending.pop()):
            tree.add(child.execution_id)
            pending.append(child.execution_id)
    arn = dynamodb.describe_table(TableName=TABLE)["Table"]["LatestStreamArn"]
    reader = StreamReader(streams_client(boto3.client, region_name="us-east-1"), arn)
    records: list[dict[str, Any]] = []
    while batch := reader.read(1000):
        records += [r for r in batch if r["dynamodb"]["Keys"]["pk"]["S"] in tree]
    log = log_for(journal, clock)
    assert log is not None
    counted: dict[str, Any] = {"stream_records": len(records)}
    for level in (BusLevel.WORKFLOW, BusLevel.ALL):
        bus = _CountingBus()
        topics = Publisher(APP, journal, log, queue, clock)
        publisher = LifecyclePublisher(journal, BusPublisher(bus, "bus"), topics, level)  # type: ignore[arg-type]
        started = time.process_time()
        for at in range(0, len(records), PUBLISHER_BATCH):
            process({"Records": records[at : at + PUBLISHER_BATCH]}, publisher)
        cpu = time.process_time() - started
        if level is BusLevel.WORKFLOW:
            counted.update(bus_entries=bus.entries, bus_calls=bus.calls,
                           publisher_cpu_ms=round(cpu * 1000, 2))  # fmt: skip
        else:
            counted["bus_entries_all"] = bus.entries
    return counted


def _tick(
    ticker: Ticker, engine: Engine, queue: Queue, meter: DynamoMeter, workflow_id: str
) -> tuple[float, list[str]]:
    """Yesterday's tick and its execution (not counted: a schedule ticks every day), then
    today's tick through the schedules function (counted, CPU included); its execution's id."""
    yesterday, today = (datetime(2030, 1, d, 8, 0, tzinfo=UTC) for d in (1, 2))
    ticker.tick(TickRequest(workflow_id, "default", yesterday))
    while queue.pending:
        asyncio.run(engine.run(queue.pending.pop(0)))
    meter.reset()
    started = time.process_time()
    ticker.tick(TickRequest(workflow_id, "default", today))
    return time.process_time() - started, [tick_execution_id(workflow_id, "default", today)]


def cost(counts: dict[str, Any], architecture: str = "arm64") -> dict[str, float]:
    """USD of one execution, by service."""
    m = LAMBDA_MODEL
    requests = sum(counts["dynamodb_requests"].values())
    billed_ms = requests * m["ms_per_dynamodb_request"] + counts["cpu_ms"] * m["cpu_slowdown"]
    sqs_wakeups = counts["wakeups"].get("sqs", 0)
    billed_ms += sqs_wakeups * m["wakeups_function_ms"]
    # a tick is one more invocation (the schedules function); its requests and CPU are
    # counted; so is a batch (the batch function)
    batches = counts.get("batch_invocations", 0)
    invocations = counts["runner_invocations"] + sqs_wakeups + counts.get("ticks", 0) + batches
    sqs_requests = sqs_wakeups * SQS_REQUESTS_PER_WAKEUP
    if batches:
        sqs_requests += BATCH * batches + SQS_REQUESTS_PER_BATCH * batches
    # the lifecycle publisher (default level): its share of stream batches, its PutEvents
    publisher_invocations = counts["stream_records"] / RECORDS_PER_PUBLISHER_INVOCATION
    invocations += publisher_invocations
    billed_ms += (
        counts["bus_calls"] + publisher_invocations
    ) * m["ms_per_dynamodb_request"] + counts["publisher_cpu_ms"] * m["cpu_slowdown"]
    return {
        "dynamodb": counts["write_units"] * PRICES["dynamodb_write_unit"]
        + counts["read_units"] * PRICES["dynamodb_read_unit"],
        "lambda": invocations * PRICES["lambda_request"]
        + billed_ms / 1000 * m["memory_gb"] * PRICES[f"lambda_gb_second_{architecture}"],
        "sqs": sqs_requests * PRICES["sqs_request"],
        "scheduler": counts["wakeups"].get("scheduler", 0) * PRICES["scheduler_invocation"],
        "eventbridge": counts["bus_entries"] * PRICES["eventbridge_event"],
    }


def run() -> dict[str, Any]:
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
    scenarios = []
    for name, workflow_id, payload, steps in SCENARIOS:
        counts = measure(workflow_id, payload)
        usd = cost(counts)
        scenarios.append(
            {
                "name": name,
                "steps": steps,
                "counts": counts,
                "usd_arm64": usd,
                "usd_x86_64_total": sum(cost(counts, "x86_64").values()),
            }
        )
    headline = scenarios[0]
    per_step = sum(headline["usd_arm64"].values()) / headline["steps"]
    x86_per_step = headline["usd_x86_64_total"] / headline["steps"]
    return {
        "scenarios": scenarios,
        "per_million_steps_arm64": round(per_step * 1e6, 4),
        "per_million_steps_x86_64": round(x86_per_step * 1e6, 4),
        "budget_per_million_steps": BUDGET_PER_MILLION_STEPS,
        "within_budget": per_step * 1e6 <= BUDGET_PER_MILLION_STEPS,
        "prices": PRICES,
        "lambda_model": LAMBDA_MODEL,
    }


def _tick_cost(results: dict[str, Any]) -> str:
    [tick] = [s for s in results["scenarios"] if s["counts"].get("ticks")]
    return f"${sum(tick['usd_arm64'].values()) * 1e6:.2f}"


def _usd(value: float) -> str:
    return f"${value:.4f}" if value < 1 else f"${value:,.2f}"


def _lifecycle_section(results: dict[str, Any]) -> list[str]:
    rows = [
        f"| {s['name']} | {s['counts']['stream_records']} | {s['counts']['bus_entries']} | "
        f"${s['counts']['bus_entries'] * PRICES['eventbridge_event'] * 1e6:.2f}/M | "
        f"{s['counts']['bus_entries_all']} | "
        f"${s['counts']['bus_entries_all'] * PRICES['eventbridge_event'] * 1e6:.2f}/M |"
        for s in results["scenarios"]
    ]
    return [
        "",
        "## Lifecycle events on the bus",
        "",
        "The lifecycle publisher reads every change of the journal (the stream's reads are free",
        "for Lambda) and puts CloudEvents on the bus at $1 per million entries. By default only",
        "workflow-level events go (start, suspend, resume, end): their entries are in the",
        "totals above, with the publisher's Lambda time (an invocation per "
        f"{RECORDS_PER_PUBLISHER_INVOCATION} stream records, "
        f"{LAMBDA_MODEL['ms_per_dynamodb_request']:g} ms per PutEvents call, its CPU measured "
        "here). `LifecycleEvents=all` adds a start and an end",
        "per step; its entries, not in the totals:",
        "",
        "| Workflow | Stream records | Entries (default) | EventBridge (default) | Entries (all) "
        "| EventBridge (all) |",
        "| --- | --- | --- | --- | --- | --- |",
        *rows,
    ]


def markdown(results: dict[str, Any]) -> str:
    """docs/costs.md: the figures with how they were obtained."""
    lines = [
        "# What Stepline costs on AWS",
        "",
        "Generated by `python benchmarks/costs.py --markdown docs/costs.md`; the requests are",
        "counted while the workflows run (DynamoDB in moto, in-process, runner invocations",
        "queued as Lambda queues asynchronous invocations, timers on a virtual clock), and",
        "priced at AWS list prices for us-east-1 (on-demand DynamoDB, arm64 Lambda at 512 MB).",
        "",
        "## Per step",
        "",
        f"A step costs **{_usd(results['per_million_steps_arm64'])} per million** on arm64 "
        f"({_usd(results['per_million_steps_x86_64'])} on x86_64), from the 1000-step workflow "
        f"below. Budget: {_usd(results['budget_per_million_steps'])} per million: "
        f"{'met' if results['within_budget'] else 'MISSED'}.",
        "",
        "| System | Per million steps | What is counted |",
        "| --- | --- | --- |",
        f"| Stepline (arm64) | {_usd(results['per_million_steps_arm64'])} | DynamoDB write and "
        "read units, Lambda requests and GB-seconds |",
        f"| AWS Lambda durable functions | {_usd(PRICES['durable_functions_operation'] * 1e6)}+ "
        "| $8 per million operations (a step is at least one), before Lambda compute and "
        "data written and retained |",
        f"| Step Functions Standard | {_usd(PRICES['step_functions_transition'] * 1e6)}+ | "
        "$25 per million state transitions (a step is at least one), before the Lambda "
        "function each task calls |",
        "",
        "## Per workflow",
        "",
        f"A schedule tick that starts a one-step workflow costs {_tick_cost(results)} per "
        "million ticks, everything included (the last row).",
        "",
        "| Workflow | Steps | DynamoDB requests | Write units | Read units | Runner "
        "invocations | Wake-ups | Bus entries (default / all) | DynamoDB | Lambda | SQS | "
        "Scheduler | EventBridge | Total (arm64) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for s in results["scenarios"]:
        c, usd = s["counts"], s["usd_arm64"]
        wakeups = ", ".join(f"{n} {route}" for route, n in sorted(c["wakeups"].items())) or "-"
        requests = ", ".join(f"{n} {op}" for op, n in c["dynamodb_requests"].items())
        lines.append(
            f"| {s['name']} | {s['steps']} | {requests} | {c['write_units']:g} | "
            f"{c['read_units']:g} | {c['runner_invocations']} | {wakeups} | "
            f"{c['bus_entries']} / {c['bus_entries_all']} | "
            + " | ".join(f"${v * 1e6:.2f}/M" for v in usd.values())
            + f" | ${sum(usd.values()) * 1e6:.2f} per million runs |"
        )
    batched = next(s for s in results["scenarios"] if s["name"].startswith(f"{BATCH} events"))
    per_event = sum(batched["usd_arm64"].values()) / BATCH
    lines += [
        "",
        "## Per event",
        "",
        f"An event to a topic with an immediate and a batched handler costs "
        f"**${per_event * 1e6:.2f} per million events** (the last row divided by {BATCH}): its "
        "own append and immediate execution, a tenth of the batch's claim, execution and "
        "batch-function invocation, and the SQS requests (a send per event, a receive and a "
        f"delete per batch). The batch function's time is modelled like the runner's.",
    ]
    lines += _lifecycle_section(results)
    m = LAMBDA_MODEL
    lines += [
        "",
        "## How Lambda time is modelled",
        "",
        "Lambda bills wall time, and a runner spends it mostly waiting on DynamoDB. The billed",
        f"time of an invocation is taken as {m['ms_per_dynamodb_request']:g} ms per DynamoDB "
        "request (AWS quotes single-digit milliseconds within a region) plus the CPU time "
        f"measured here times {m['cpu_slowdown']:g} (a {int(m['memory_gb'] * 1024)} MB function "
        "gets about a third of a core; the measured CPU includes moto's own work, so this is "
        "pessimistic). An SQS wake-up adds one invocation of the wake-ups function "
        f"({m['wakeups_function_ms']:g} ms) and {SQS_REQUESTS_PER_WAKEUP} SQS requests. A "
        "schedule tick is one EventBridge Scheduler invocation (the Scheduler column) and one "
        "invocation of the schedules function, whose DynamoDB requests and CPU are counted "
        "with the runner's.",
        "",
        "## Not counted",
        "",
        "- Storage: about 0.3 KB per step item, $0.25 per GB-month (plus $0.20 with",
        "  point-in-time recovery) while it is kept; items of a finished execution expire after",
        "  the stack's retention period (DynamoDB's TTL deletes them at no charge).",
        "- Fixed costs per stack: the sweeper runs every minute (43,200 invocations and as",
        "  many small queries a month: about $0.02), log storage in CloudWatch.",
        "- Lambda's pollers of a batch queue long-poll it while it is idle: about 0.3 to 1",
        "  ReceiveMessage requests a second per queue at AWS's polling rates, up to $1 a",
        "  month per batched workflow before the SQS free tier.",
        "- Free tiers (Lambda, SQS and Scheduler have monthly free allowances).",
        "",
        "Prices used (USD):",
        "",
        *(f"- `{name}`: {price:.10g}" for name, price in PRICES.items()),
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--markdown", type=Path, help="write the figures as Markdown here")
    args = parser.parse_args()
    results = run()
    if args.markdown:
        args.markdown.write_text(markdown(results))
    if args.json:
        print(json.dumps(results, indent=2))
        return
    for s in results["scenarios"]:
        print(
            f"{s['name']}: ${sum(s['usd_arm64'].values()) * 1e6:.2f} per million runs; "
            f"{s['counts']}"
        )
    print(
        f"per million steps: ${results['per_million_steps_arm64']:.4f} arm64, "
        f"${results['per_million_steps_x86_64']:.4f} x86_64 (budget "
        f"${BUDGET_PER_MILLION_STEPS}: {'met' if results['within_budget'] else 'MISSED'})"
    )


if __name__ == "__main__":
    main()
