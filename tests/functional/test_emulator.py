"""The whole system on one machine: moto behind the gateway, functions in worker processes."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from examples.streaming import print_progress
from infra.template import synth
from local_emulator.api_client import ApiClient
from local_emulator.cli import main
from local_emulator.emulator import Emulator
from local_emulator.scheduler import recurring_schedules
from local_emulator.scheduler.expressions import Rate
from sdk.aws_timers import wake_up_body
from sdk.events import stream_workflow
from sdk.journal.records import EXECUTION_SK
from sdk.lifecycle import LifecycleEvent
from tests.functional.test_streaming_example import PAGE_000
from tests.support import eventually

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


# A crashed invocation's lease holds until its deadline, the runner's timeout: a short one
# here, and a sweeper every 0.2 s, so crash recovery takes seconds instead of minutes.
RUNNER_TIMEOUT = 5


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    app = ["examples", "tests.apps.crashy", "tests.apps.waiting"]
    template = synth(app, runner_timeout=RUNNER_TIMEOUT)
    with Emulator(template, workdir=str(ROOT), sweep_interval=0.2) as running:
        yield running


@pytest.fixture
def api(emulator: Emulator) -> ApiClient:
    assert emulator.endpoints is not None
    return ApiClient(emulator.endpoints.api)


def test_an_order_completes_through_the_http_api(api: ApiClient) -> None:
    started = api.invoke("process-order", {"order_id": "o-1", "amount": 42})
    execution = api.wait(started["execution_id"], timeout=60)
    assert execution["status"] == "completed"
    assert execution["output"]["status"] == "completed"
    assert [s["key"] for s in execution["steps"]][:2] == ["validate", "payment-id"]


def test_boto3_at_the_aws_endpoint_reads_the_tables_and_the_journal(
    emulator: Emulator, api: ApiClient
) -> None:
    execution_id = api.invoke("process-order", {"order_id": "o-2", "amount": 1})["execution_id"]
    api.wait(execution_id, timeout=60)
    dynamodb = emulator.client("dynamodb")
    assert emulator.stack is not None
    assert dynamodb.list_tables()["TableNames"] == [emulator.stack.table_name]
    items = dynamodb.query(
        TableName=emulator.stack.table_name,
        KeyConditionExpression="pk = :id",
        ExpressionAttributeValues={":id": {"S": execution_id}},
    )["Items"]
    keys = sorted(item["sk"]["S"] for item in items)
    assert keys[0] == EXECUTION_SK and "step#charge" in keys


def test_a_step_that_kills_its_environment_completes_on_the_retry(
    emulator: Emulator, api: ApiClient, tmp_path: Path
) -> None:
    assert emulator.lambdas is not None
    runner = emulator.lambdas.pool("stepline-runner")
    cold_before = runner.cold_starts
    log, marker = tmp_path / "steps.log", tmp_path / "crashed"
    started = api.invoke("crash-once", {"log": str(log), "marker": str(marker)})
    execution = api.wait(started["execution_id"], timeout=60)
    assert execution["status"] == "completed", execution["error"]
    assert execution["output"] == ["before-1", "before-2", "survived"]
    assert log.read_text().split() == ["before-1", "before-2", "crashing-step", "crashing-step"]
    assert runner.cold_starts > cold_before  # the killed environment was replaced
    # Lambda's retry found the dead invocation's lease and recorded a wake-up; once the lease
    # expired (the runner's timeout), the sweeper re-drove it and the next one took over.
    assert execution["finished_at"] >= execution["started_at"]


def test_an_execution_whose_invocations_keep_dying_is_recorded_failed(
    api: ApiClient, tmp_path: Path
) -> None:
    log = tmp_path / "steps.log"
    started = api.invoke("always-crash", str(log))
    execution = api.wait(started["execution_id"], timeout=60)
    assert execution["status"] == "failed"
    assert execution["error"]["type"] == "stepline:InvocationsDied"
    assert "3 invocations died" in execution["error"]["message"]
    assert log.read_text().split() == ["before", "doomed-step", "doomed-step", "doomed-step"]


def test_environments_stay_warm_between_invocations(emulator: Emulator, api: ApiClient) -> None:
    assert emulator.lambdas is not None
    pool = emulator.lambdas.pool("stepline-api")
    api.workflows()
    cold = pool.cold_starts
    for _ in range(5):
        api.workflows()
    assert pool.cold_starts == cold


def test_the_cli_invokes_and_shows_through_the_emulator(emulator: Emulator) -> None:
    assert emulator.endpoints is not None
    endpoint = ["--endpoint", emulator.endpoints.api]
    cli = CliRunner()
    payload = json.dumps({"order_id": "o-9", "amount": 42})
    done = cli.invoke(main, ["invoke", "process-order", "--payload", payload, "--wait", *endpoint])
    assert done.exit_code == 0, done.output
    execution_id, status = done.output.splitlines()[0].split()
    assert status == "completed" and '"status": "completed"' in done.output
    shown = cli.invoke(main, ["show", execution_id, "--json", *endpoint])
    assert shown.exit_code == 0
    assert [s["status"] for s in json.loads(shown.output)["steps"]] == ["completed"] * 5
    missing = cli.invoke(main, ["show", "nope", *endpoint])
    assert missing.exit_code == 1 and "no execution 'nope'" in missing.output


def test_a_two_second_wait_resumes_between_two_and_three_seconds_later(
    emulator: Emulator, api: ApiClient
) -> None:
    assert emulator.queues is not None and emulator.stack is not None
    [timer_queue] = [m for m in emulator.queues.mappings if m.function == "stepline-wakeups"]
    # The bound is on the timer path: a cold start of the wake-ups function (about 0.6 s
    # here) would come on top, as on Lambda. A duplicate wake-up of a finished execution
    # warms it, and changes nothing.
    finished = api.wait(api.invoke("doubler", 1)["execution_id"], timeout=30)
    queue_url = emulator.stack.functions["stepline-runner"].environment["STEPLINE_TIMER_QUEUE_URL"]
    body = wake_up_body(finished["execution_id"], datetime.now(UTC))
    warmed = emulator.queues.deleted + 1
    emulator.client("sqs").send_message(QueueUrl=queue_url, MessageBody=body)
    give_up = time.monotonic() + 30
    while emulator.queues.deleted < warmed:
        assert time.monotonic() < give_up, "the wake-up never reached the wake-ups function"
        time.sleep(0.01)
    assert api.execution(finished["execution_id"], steps=False)["output"] == 2
    delivered = emulator.queues.deleted
    started = api.invoke("two-second-wait", None)
    execution = api.wait(started["execution_id"], timeout=30)
    assert execution["status"] == "completed" and execution["output"] == "after"
    steps = {step["key"]: step for step in execution["steps"]}
    assert steps["pause"]["status"] == "waiting"
    paused = datetime.fromisoformat(steps["pause"]["started_at"])
    resumed = datetime.fromisoformat(steps["after"]["started_at"])
    assert timedelta(seconds=2) <= resumed - paused < timedelta(seconds=3)
    assert emulator.queues.deleted > delivered  # woken through the timer queue


def test_a_wait_over_fifteen_minutes_is_a_schedule_in_the_stack_group(
    emulator: Emulator, api: ApiClient
) -> None:
    assert emulator.stack is not None
    runner = emulator.stack.functions["stepline-runner"].environment
    group, prefix = runner["STEPLINE_SCHEDULE_GROUP"], runner["STEPLINE_SCHEDULE_PREFIX"]
    assert group == emulator.stack.name
    execution_id = api.invoke("long-wait", None)["execution_id"]
    give_up = time.monotonic() + 30
    while api.execution(execution_id, steps=False)["status"] != "suspended":
        assert time.monotonic() < give_up, "never reached its wait"
        time.sleep(0.01)
    scheduler = emulator.client("scheduler")
    found = [
        scheduler.get_schedule(Name=entry["Name"], GroupName=group)
        for entry in scheduler.list_schedules(GroupName=group)["Schedules"]
        if entry["Name"].startswith(prefix + "-")
    ]
    [schedule] = [s for s in found if execution_id in s["Target"]["Input"]]
    wake_at = datetime.fromisoformat(json.loads(schedule["Target"]["Input"])["wake_at"])
    napped = datetime.fromisoformat(api.execution(execution_id)["steps"][0]["started_at"])
    assert wake_at - napped == timedelta(minutes=20)
    at = wake_at.replace(microsecond=0) + timedelta(seconds=1 if wake_at.microsecond else 0)
    assert schedule["ScheduleExpression"] == f"at({at:%Y-%m-%dT%H:%M:%S})"
    assert schedule["GroupName"] == group and schedule["ActionAfterCompletion"] == "DELETE"
    assert schedule["Target"]["Arn"] == runner["STEPLINE_RUNNER_ARN"]
    assert schedule["Target"]["RoleArn"] == runner["STEPLINE_SCHEDULER_ROLE_ARN"]
    assert schedule["Target"]["DeadLetterConfig"] == {"Arn": runner["STEPLINE_SCHEDULE_DLQ_ARN"]}
    api.cancel(execution_id)


def test_children_in_worker_processes_report_to_their_parent(api: ApiClient) -> None:
    started = api.invoke("family", 10)
    execution = api.wait(started["execution_id"], timeout=60)
    assert execution["status"] == "completed", execution["error"]
    assert execution["output"] == [20, 22, 24]


def test_the_cli_cancels_a_waiting_execution(emulator: Emulator, api: ApiClient) -> None:
    assert emulator.endpoints is not None
    started = api.invoke("two-second-wait", None)
    give_up = time.monotonic() + 30
    while api.execution(started["execution_id"], steps=False)["status"] != "suspended":
        assert time.monotonic() < give_up, "never reached its wait"
        time.sleep(0.01)
    cli = CliRunner()
    done = cli.invoke(
        main, ["cancel", started["execution_id"], "--endpoint", emulator.endpoints.api]
    )
    assert done.exit_code == 0, done.output
    assert done.output.split() == [started["execution_id"], "cancelled"]
    assert api.execution(started["execution_id"])["status"] == "cancelled"


def test_the_sweeper_keeps_the_template_rate_unless_told(emulator: Emulator) -> None:
    assert emulator.stack is not None and emulator.recurring is not None
    [default] = [
        s for s in recurring_schedules(emulator.stack, None) if s.function.endswith("-sweeper")
    ]
    assert default.function.endswith(":function:stepline-sweeper")
    assert default.when == Rate(timedelta(minutes=1))
    # this module's emulator sweeps every 0.2 s
    [sweep] = [s for s in emulator.recurring.schedules if s.function.endswith("-sweeper")]
    assert sweep.when == Rate(timedelta(seconds=0.2))


# Lifecycle streams: page 000's loop with no client (the HTTP API from the environment), a
# reader resuming after every third event, and ``stepline tail``.

PIPELINE = {"source": "database", "table": "orders"}


@pytest.fixture
def endpoint(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> str:
    assert emulator.endpoints is not None
    monkeypatch.delenv("STEPLINE_TABLE", raising=False)
    monkeypatch.setenv("STEPLINE_ENDPOINT", emulator.endpoints.api)
    return emulator.endpoints.api


def test_page_000_s_loop_follows_the_pipeline_from_the_environment(
    api: ApiClient, endpoint: str
) -> None:
    execution_id = api.invoke("data_pipeline", PIPELINE)["execution_id"]
    lines = asyncio.run(print_progress(execution_id))
    assert lines == [
        "⏳ Step started: extract", "✅ Step finished: extract",
        "⏳ Step started: transform", "✅ Step finished: transform",
        "⏳ Step started: validate", "✅ Step finished: validate",
        "⏳ Step started: enrich", "✅ Step finished: enrich",
        "🎉 Workflow completed",  # the child's: the page's loop prints every workflow_finish
        "⏳ Step started: load", "✅ Step finished: load",
        "🎉 Workflow completed",
    ]  # fmt: skip


async def _three(execution_id: str, after: int | None) -> list[LifecycleEvent]:
    got: list[LifecycleEvent] = []
    async for event in stream_workflow(workflow_run_id=execution_id, last_sequence_id=after):
        got.append(event)
        if len(got) == 3:
            break
    return got


def test_a_reader_resuming_after_every_third_event_sees_page_000_once(
    api: ApiClient, endpoint: str
) -> None:
    execution_id = api.invoke("data_pipeline", PIPELINE)["execution_id"]
    seen: list[LifecycleEvent] = []
    while not (seen and seen[-1].event_type == "workflow_finish"
               and seen[-1].execution_id == execution_id):  # fmt: skip
        seen += asyncio.run(_three(execution_id, seen[-1].sequence_id if seen else None))
    assert [(e.event_type.value, e.workflow_id, e.step_key) for e in seen] == PAGE_000
    assert [e.sequence_id for e in seen] == list(range(1, len(PAGE_000) + 1))


def test_stepline_tail_prints_the_stream_and_exits_with_the_outcome(
    api: ApiClient, endpoint: str
) -> None:
    cli = CliRunner()
    ok = api.invoke("data_pipeline", PIPELINE)["execution_id"]
    done = cli.invoke(main, ["tail", ok, "--endpoint", endpoint])
    assert done.exit_code == 0, done.output
    lines = done.output.splitlines()
    assert len(lines) == len(PAGE_000)
    assert "workflow_start" in lines[0] and "data_pipeline" in lines[0]
    assert "step_finish" in lines[2] and "data_pipeline/extract" in lines[2] and " ms" in lines[2]
    resumed = cli.invoke(main, ["tail", ok, "--after", "12", "--json", "--endpoint", endpoint])
    envelopes = [json.loads(line) for line in resumed.output.splitlines()]
    assert [(e["sequence_id"], e["event_type"]) for e in envelopes] == [
        (13, "step_finish"), (14, "workflow_finish"),
    ]  # fmt: skip
    bad = api.invoke("process-order", {"order_id": " ", "amount": 1})["execution_id"]
    failed = cli.invoke(main, ["tail", bad, "--endpoint", endpoint])
    assert failed.exit_code == 1
    assert "workflow_fail" in failed.output.splitlines()[-1]
    assert "an order needs an id" in failed.output
    missing = cli.invoke(main, ["tail", "no-such-run", "--endpoint", endpoint])
    assert missing.exit_code == 1 and "no execution 'no-such-run'" in missing.output


def test_a_failed_payment_is_compensated_from_the_journal_s_stream(api: ApiClient) -> None:
    """The lifecycle publisher runs from moto's DynamoDB stream, as the stack's mapping."""
    failed = api.invoke("pay-invoice", {"invoice_id": "inv-e", "amount": 5000})["execution_id"]
    assert api.wait(failed, timeout=60)["status"] == "failed"

    def refunds() -> list[dict[str, Any]]:
        done = api.executions("refund-invoice", "completed", 50)
        outputs = [api.execution(r["execution_id"])["output"] for r in done]
        return [o for o in outputs if o["failed_execution"] == failed]

    [refund] = eventually(refunds, bool)
    assert refund["released"] == "released hold-inv-e"
