"""The runner Lambda handler: typed input, outcome, and log lines that carry the ids."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from examples.orders import process_order
from handlers.runner import Runner, RunnerEvent, logger
from sdk import App, Client, Engine, MemoryJournal, VirtualClock
from tests.support import FakeLambdaContext, QueueInvoker


def build() -> tuple[Runner, Client]:
    app, journal, clock = App([process_order]), MemoryJournal(), VirtualClock()
    return Runner(Engine(app, journal, clock)), Client(app, journal, QueueInvoker(), clock=clock)


@pytest.mark.parametrize(
    "event", [None, [], {}, {"execution_id": ""}, {"execution_id": 7}, {"id": "x"}]
)
def test_a_malformed_event_is_refused_naming_the_field(event: object) -> None:
    with pytest.raises(ValueError, match="runner event"):
        RunnerEvent.parse(event)


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    """What the runner's Powertools logger writes, one JSON object a line."""
    handler = logger.registered_handler
    assert isinstance(handler, logging.StreamHandler)
    buffer = io.StringIO()
    previous = handler.setStream(buffer)
    yield buffer
    handler.setStream(previous)


def test_the_runner_completes_an_execution_and_logs_its_ids(log_lines: io.StringIO) -> None:
    runner, client = build()
    handle = client.invoke(process_order, {"order_id": "o-1", "amount": 42})
    outcome = runner({"execution_id": handle.id}, FakeLambdaContext())
    assert outcome == {
        "execution_id": handle.id,
        "status": "completed",
        "detail": "",
        "reinvoke": False,
    }
    lines = [json.loads(line) for line in log_lines.getvalue().splitlines() if line]
    assert [line["message"] for line in lines] == ["invocation started", "invocation finished"]
    for line in lines:
        assert (line["execution_id"], line["workflow_id"]) == (handle.id, "process-order")


def test_a_finished_execution_is_skipped() -> None:
    runner, client = build()
    handle = client.invoke(process_order, {"order_id": "o-1", "amount": 42})
    runner({"execution_id": handle.id}, FakeLambdaContext())
    again = runner({"execution_id": handle.id}, FakeLambdaContext())
    assert again["status"] == "skipped" and "already completed" in again["detail"]


def test_near_its_deadline_the_runner_runs_one_step_then_invokes_itself_again() -> None:
    app, journal, clock = App([process_order]), MemoryJournal(), VirtualClock()
    again = QueueInvoker()
    runner = Runner(Engine(app, journal, clock), reinvoker=again)
    handle = Client(app, journal, QueueInvoker(), clock=clock).invoke(
        process_order, {"order_id": "o-1", "amount": 42}
    )
    # 2 s left is inside the engine's 3 s margin: one new step, then a fresh invocation.
    outcome = runner({"execution_id": handle.id}, FakeLambdaContext(remaining_ms=2_000))
    assert (outcome["status"], outcome["reinvoke"]) == ("suspended", True)
    assert again.started == [handle.id]
    assert list(journal.load_steps(handle.id)) == ["validate"]
    finished = runner({"execution_id": handle.id}, FakeLambdaContext(remaining_ms=60_000))
    assert finished["status"] == "completed"


def test_a_runner_with_less_time_than_the_margin_still_finishes_one_step_at_a_time() -> None:
    app, journal, clock = App([process_order]), MemoryJournal(), VirtualClock()
    again = QueueInvoker()
    runner = Runner(Engine(app, journal, clock), reinvoker=again)
    handle = Client(app, journal, QueueInvoker(), clock=clock).invoke(
        process_order, {"order_id": "o-1", "amount": 42}
    )
    outcomes = []
    for _ in range(10):  # no livelock: every invocation records a step
        outcomes.append(runner({"execution_id": handle.id}, FakeLambdaContext(remaining_ms=500)))
        if outcomes[-1]["status"] == "completed":
            break
    assert outcomes[-1]["status"] == "completed"
    assert len(outcomes) == len(journal.load_steps(handle.id))
