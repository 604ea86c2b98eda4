"""The test harness behaves like AWS: racing invocations, isolated harnesses, a prompt stop.

Eight invocations of one execution race, forty times over, in-process and through the
emulator's Lambda endpoint: every step body runs once (counted in a file, since the
emulator runs them in worker processes) and the execution completes. Emulators and
in-process fixtures share one process without sharing state, and an emulator stops
promptly with clients still connected.
"""

from __future__ import annotations

import functools
import http.client
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from infra.template import synth
from local_emulator.emulator import Emulator
from local_emulator.testing import InProcessStepline
from sdk import App, Client, ExecutionStatus
from sdk.journal.dynamodb import DynamoJournal
from tests.apps.racing import STEPS, logged_steps
from tests.support import QueueInvoker

ROOT = Path(__file__).resolve().parents[2]
APP = "tests.apps.racing"
RACERS = 8
ROUNDS = 40


def race(invoke: Callable[[], Any]) -> list[Any]:
    """Call ``invoke`` from eight threads released at the same moment; their results."""
    start = threading.Barrier(RACERS)

    def one(_: int) -> Any:
        start.wait(timeout=10)
        return invoke()

    with ThreadPoolExecutor(RACERS) as pool:
        return list(pool.map(one, range(RACERS)))


def ran_once_each(log: Path) -> bool:
    return sorted(log.read_text().split()) == sorted(STEPS)


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    with Emulator(synth([APP]), workdir=str(ROOT)) as running:
        yield running


def starter(emulator: Emulator) -> Client:
    """A client of the emulator's journal that records executions without invoking them."""
    assert emulator.stack is not None
    journal = DynamoJournal(emulator.client("dynamodb"), emulator.stack.table_name)
    return Client(App([logged_steps]), journal, QueueInvoker())


@pytest.mark.stepline(app=APP)
def test_eight_racing_invocations_run_each_step_body_once_in_process(
    stepline: Any, tmp_path: Path, moto_race_window: None
) -> None:
    recorder = Client(stepline.app, stepline.journal, QueueInvoker(), clock=stepline.clock)
    for round_ in range(ROUNDS):
        log = tmp_path / f"round-{round_}.log"
        handle = recorder.invoke(logged_steps, str(log))
        race(functools.partial(stepline.invoker.invoke_async, handle.id))
        assert stepline.client.handle(handle.id).result(timeout=10) == list(STEPS)
        assert ran_once_each(log), f"round {round_}: {log.read_text().split()}"


@pytest.mark.slow
def test_eight_racing_lambda_invocations_run_each_step_body_once_in_workers(
    emulator: Emulator, tmp_path: Path, moto_race_window: None
) -> None:
    assert emulator.stack is not None
    runner = emulator.stack.function_by_handler("handlers.runner.handler").name
    lambda_client = emulator.client("lambda")
    recorder = starter(emulator)
    for round_ in range(ROUNDS):
        log = tmp_path / f"round-{round_}.log"
        handle = recorder.invoke(logged_steps, str(log))
        invoke = functools.partial(
            lambda_client.invoke,
            FunctionName=runner,
            InvocationType="RequestResponse",
            Payload=json.dumps({"execution_id": handle.id}),
        )
        responses = race(invoke)
        assert [r for r in responses if "FunctionError" in r] == []
        assert recorder.handle(handle.id).result(timeout=30) == list(STEPS)
        assert ran_once_each(log), f"round {round_}: {log.read_text().split()}"


@pytest.mark.slow
def test_an_in_process_fixture_beside_a_running_emulator_shares_nothing_with_it(
    emulator: Emulator, tmp_path: Path
) -> None:
    assert emulator.stack is not None
    on_emulator = starter(emulator)
    before = on_emulator.invoke(logged_steps, str(tmp_path / "emulator.log"))
    emulator.client("lambda").invoke(
        FunctionName=emulator.stack.function_by_handler("handlers.runner.handler").name,
        Payload=json.dumps({"execution_id": before.id}),
    )
    assert before.result(timeout=30) == list(STEPS)
    emulator_executions = {r.execution_id for r in on_emulator.list_executions()}

    fixture = InProcessStepline([APP])  # starting moto in-process must not reset the emulator
    try:
        handle = fixture.invoke(logged_steps, str(tmp_path / "fixture.log"))
        assert handle.result(timeout=5) == list(STEPS)
        assert [r.execution_id for r in fixture.client.list_executions()] == [handle.id]
        assert fixture.aws_client("dynamodb").list_tables()["TableNames"] == ["stepline-test"]
    finally:
        fixture.close()

    assert {r.execution_id for r in on_emulator.list_executions()} == emulator_executions
    dynamodb = emulator.client("dynamodb")
    assert dynamodb.list_tables()["TableNames"] == [emulator.stack.table_name]
    assert on_emulator.get_execution(before.id).status is ExecutionStatus.COMPLETED


@pytest.mark.slow
def test_the_emulators_resources_live_in_its_own_moto_account(emulator: Emulator) -> None:
    assert emulator.stack is not None
    table = emulator.client("dynamodb").describe_table(TableName=emulator.stack.table_name)
    arns = [table["Table"]["TableArn"], *(f.arn for f in emulator.stack.functions.values())]
    assert all(arn.split(":")[4] == emulator.account_id for arn in arns), arns
    assert emulator.account_id != "123456789012"  # moto's default, left to plain mock_aws


@pytest.mark.slow
@pytest.mark.stepline(app=APP, processes=True)
def test_a_worker_fixture_runs_a_workflow(stepline: Any, tmp_path: Path) -> None:
    log = tmp_path / "steps.log"
    handle = stepline.invoke(logged_steps, str(log))
    assert handle.result(timeout=30) == list(STEPS)
    assert ran_once_each(log)


@pytest.mark.slow
@pytest.mark.stepline(app=APP, processes=True)
def test_a_second_worker_fixture_in_the_same_session_starts_from_a_clean_stack(
    stepline: Any, tmp_path: Path
) -> None:
    log = tmp_path / "steps.log"
    handle = stepline.invoke(logged_steps, str(log))
    assert handle.result(timeout=30) == list(STEPS)
    assert [r.execution_id for r in stepline.client.list_executions()] == [handle.id]


def keep_alive(url: str, path: str) -> http.client.HTTPConnection:
    """An HTTP/1.1 connection that made one request and stays open."""
    parts = urlsplit(url)
    assert parts.hostname is not None and parts.port is not None
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    connection.request("GET", path)
    connection.getresponse().read()
    return connection


@pytest.mark.slow
def test_stop_returns_within_two_seconds_with_clients_connected() -> None:
    emulator = Emulator(synth([APP]), workdir=str(ROOT))
    endpoints = emulator.start()
    try:
        emulator.client("dynamodb").list_tables()  # boto3 keeps its connection for reuse
        connections = [keep_alive(endpoints.aws, "/"), keep_alive(endpoints.api, "/workflows")]
        idle = [
            socket.create_connection((urlsplit(url).hostname, urlsplit(url).port), timeout=10)
            for url in (endpoints.aws, endpoints.api)
        ]  # connected, never sent a request
        assert connections[0].sock is not None  # the gateway kept it alive
        started = time.monotonic()
        emulator.stop()
        took = time.monotonic() - started
    finally:
        emulator.stop()
    assert took < 2.0, f"stop() took {took:.1f} s"
    assert [sock.recv(1) for sock in idle] == [b"", b""]  # the server closed them
