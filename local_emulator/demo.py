"""The demo: the example app's workflows run on DynamoDB in moto, with their step timelines.

Everything happens in this process: moto stands in for DynamoDB, the engine runs
each invocation inline. It shows what a user's workflows do before any AWS account
is involved.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import boto3
from moto import mock_aws

from sdk import App, Client, Engine, EventPayload, InlineInvoker, SchedulePayload
from sdk.journal.dynamodb import DynamoJournal, client_config
from sdk.journal.records import ExecutionRecord, StepRecord
from sdk.journal.schema import table_definition

TABLE = "stepline-demo"

DEMO_PAYLOADS: dict[str, Any] = {
    "process-order": {"order_id": "o-1", "amount": 42},
    "user-signup-handler": EventPayload(
        id="evt-1", sequence_id=1, topic="user/signup",
        data={"user_id": "u-1", "email": "ada@example.com"},
    ),
    "batch-processor": {"events": [
        {"id": f"evt-{i}", "sequence_id": i, "topic": "analytics/events", "data": {"click": i}}
        for i in range(3)
    ]},
    "daily-report": SchedulePayload(timestamp=datetime(2030, 1, 1, 8, tzinfo=UTC)),
    "create-user": {"name": "Ada", "email": "ada@example.com"},
    "notification-handler": EventPayload(
        id="evt-2", sequence_id=1, topic="notifications/new",
        data={"user_id": "user_456", "message": "You have a new message"},
    ),
    "immediate-handler": EventPayload(
        id="evt-3", sequence_id=1, topic="order/created", data={"order_id": "o-1", "total": 9},
    ),
    "batched-handler": {"events": [
        {"id": f"evt-o{i}", "sequence_id": i, "topic": "order/created",
         "data": {"order_id": f"o-{i}", "total": 9}}
        for i in range(1, 3)
    ]},
    "order-metrics-handler": EventPayload(
        id="evt-3", sequence_id=1, topic="order/created", data={"order_id": "o-1", "total": 9},
        event_type="created",
    ),
    "fulfil-order": {"order_id": "o-1", "items": ["book"], "address": "1 Main St",
                     "pickup_in_seconds": 0},
    "ship-parcel": {"order_id": "o-2", "address": "2 Main St", "pickup_in_seconds": 0},
    "data_pipeline": {"source": "database", "table": "orders"},
    "child_pipeline": [{"id": 1, "amount": 10}],
    "pay-invoice": {"invoice_id": "inv-1", "amount": 50},
    "refund-invoice": EventPayload(
        id="evt-4", sequence_id=1, topic="lifecycle/pay-invoice", event_type="workflow_fail",
        data={"execution_id": "ex-1", "workflow_id": "pay-invoice",
              "input": {"invoice_id": "inv-1", "amount": 5000},
              "error": {"type": "sdk.errors:TerminalError", "message": "card limit exceeded"}},
    ),
}  # fmt: skip


@contextmanager
def moto_client(app: App) -> Iterator[Client]:
    """A client whose journal is a DynamoDB table in moto, in this process."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        os.environ.setdefault(name, "demo")
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name="us-east-1", config=client_config())
        dynamodb.create_table(**table_definition(TABLE))
        journal = DynamoJournal(dynamodb, TABLE)
        yield Client(app, journal, InlineInvoker(Engine(app, journal)))


def describe(record: ExecutionRecord, steps: Sequence[StepRecord]) -> list[str]:
    """Human lines for one execution: its outcome, then each step with its timing."""
    lines = [f"{record.workflow_id} {record.execution_id}: {record.status.value}"]
    origin = record.started_at or record.created_at
    for step in sorted(steps, key=lambda s: (s.position, s.key)):
        start = ((step.started_at or origin) - origin).total_seconds() * 1000
        took = ((step.finished_at or origin) - (step.started_at or origin)).total_seconds() * 1000
        outcome = (
            step.output if step.error is None else f"{step.error.type_name}: {step.error.message}"
        )
        lines.append(
            f"  {start:8.1f} ms  +{took:6.1f} ms  {step.step_type:<6} {step.key:<14} "
            f"{step.status.value:<9} {outcome}"
        )
    if record.output is not None:
        lines.append(f"  output: {record.output}")
    if record.error is not None:
        lines.append(f"  error: {record.error.type_name}: {record.error.message}")
    return lines


def run_demo(modules: Sequence[str], emit: Callable[[str], None] = print) -> int:
    """Run every workflow of the app that has a demo payload; returns how many failed."""
    app = App.from_modules(modules)
    failed = 0
    with moto_client(app) as client:
        for wf in app:
            if wf.id not in DEMO_PAYLOADS:
                emit(f"{wf.id}: no demo payload, skipped")
                continue
            handle = client.invoke(wf, DEMO_PAYLOADS[wf.id])
            record = client.wait(handle.id, timeout=60)
            steps = list(client.journal.load_steps(handle.id).values())
            for line in describe(record, steps):
                emit(line)
            failed += record.status.value != "completed"
    return failed
