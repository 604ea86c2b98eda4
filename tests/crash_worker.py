"""A runner in its own process, for tests that kill it with SIGKILL mid-step.

Side effects are appended to a file so the test process can count them.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import boto3

from handlers.runner import Runner
from sdk import App, Engine, WorkflowContext, workflow
from sdk.journal.dynamodb import DynamoJournal
from tests.support import TABLE, FakeLambdaContext


def _effect(log: str, name: str, value: int, hang_at: str | None, reached: Any) -> int:
    with Path(log).open("a") as out:
        out.write(name + "\n")
    if name == hang_at:
        reached.set()
        threading.Event().wait()  # hangs until the process is killed
    return value


@workflow(id="ten-logged-steps")
async def ten_logged_steps(ctx: WorkflowContext, log: str) -> int:
    total = 0
    for i in range(1, 11):
        hang_at = HANG_AT.get("step")
        total += await ctx.step.run(f"step-{i}", _effect, log, f"step-{i}", i, hang_at, REACHED)
    return total


HANG_AT: dict[str, str] = {}
REACHED: Any = None


def dynamo_journal(endpoint: str) -> DynamoJournal:
    client = boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1")
    return DynamoJournal(client, TABLE)


def run_until_killed(
    endpoint: str, execution_id: str, hang_at: str, reached: Any, request_id: str
) -> None:
    """Process entry point: run the execution; the step named ``hang_at`` never returns."""
    global REACHED
    HANG_AT["step"] = hang_at
    REACHED = reached
    runner = Runner(Engine(App([ten_logged_steps]), dynamo_journal(endpoint)))
    context = FakeLambdaContext(remaining_ms=900_000, aws_request_id=request_id)
    runner({"execution_id": execution_id}, context)
