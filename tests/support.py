"""Helpers for tests: a harness wiring app, journal, engine and client, and a side-effect log."""

from __future__ import annotations

import collections
import dataclasses
import json
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from sdk import App, Client, Engine, InlineInvoker, VirtualClock, Workflow
from sdk.events.batches import Batcher
from sdk.events.log import MemoryTopicLog, log_for
from sdk.events.windows import ManualBatchWindows
from sdk.journal import ExecutionRecord, Journal, StepRecord
from sdk.sweeper import Sweeper
from sdk.timers import ManualTimers

TABLE = "stepline-test"
FIXTURES = Path(__file__).parent / "fixtures"

# How many times each step body really ran, by name; reset before every test.
CALLS: collections.Counter[str] = collections.Counter()


PATIENCE = 30.0  # seconds a condition may take to hold before a test fails


def eventually(read: Callable[[], Any], holds: Callable[[Any], bool]) -> Any:
    """``read()`` once ``holds`` of it, polling (never sleeping a fixed time to wait)."""
    give_up = time.monotonic() + PATIENCE
    while True:
        value = read()
        if holds(value):
            return value
        assert time.monotonic() < give_up, f"still {value!r} after {PATIENCE} s"
        time.sleep(0.02)


def effect(name: str, value: Any = None) -> Any:
    """A step body with a side effect we can count."""
    CALLS[name] += 1
    return value


@dataclass
class Harness:
    app: App
    journal: Journal
    clock: VirtualClock
    engine: Engine
    invoker: InlineInvoker
    client: Client
    timers: ManualTimers
    sweeper: Sweeper
    windows: ManualBatchWindows
    batcher: Batcher

    @classmethod
    def build(
        cls,
        journal: Journal,
        clock: VirtualClock,
        workflows: Iterable[Workflow[Any]],
        *,
        always_replay: bool = False,
        live_steps: bool = False,
    ) -> Harness:
        app = App(workflows)
        timers = ManualTimers()
        started: list[Batcher] = []  # the batcher needs the invoker, which needs the engine
        windows = ManualBatchWindows(app, lambda items: started[0].start(items), clock)
        engine = Engine(
            app, journal, clock, always_replay=always_replay, timers=timers, batches=windows,
            live_steps=live_steps,
        )  # fmt: skip
        invoker = InlineInvoker(engine)
        # a journal of another kind (a test's wrapper) keeps no topic log: no batches then
        log = log_for(journal, clock) or MemoryTopicLog(clock=clock)
        started.append(Batcher(app, journal, log, invoker, clock))
        client = Client(app, journal, invoker, clock=clock, batches=windows)
        sweeper = Sweeper(journal, invoker, clock, batches=windows)
        return cls(
            app, journal, clock, engine, invoker, client, timers, sweeper, windows, started[0]
        )

    def advance(self, **length: float) -> None:
        """Move the clock and resume what is due, as the fixture does."""
        self.timers.advance(
            self.clock,
            timedelta(**length),
            self.invoker.invoke_async,
            self.sweeper.sweep,
            [self.windows],
        )

    def steps(self, execution_id: str) -> dict[str, StepRecord]:
        return self.journal.load_steps(execution_id)


def load_journal_fixture(journal: Journal, name: str) -> str:
    """Write a recorded journal (DynamoDB items as JSON) into ``journal``; returns its id.

    Its items are written as of the execution's creation: ``journal`` gives them their
    ``expires_at`` (recorded journals hold none, see ``tests.record_goldens``).
    """
    items = json.loads((FIXTURES / name).read_text())
    execution = ExecutionRecord.from_item(items["execution"])
    journal.create_execution(execution)
    for item in items["steps"]:
        step = StepRecord.from_item(item)
        journal.record_step(execution.execution_id, step, now=execution.created_at)
    return execution.execution_id


class QueueInvoker:
    """An invoker that only remembers what it was asked to start (the test runs it)."""

    def __init__(self) -> None:
        self.started: list[str] = []

    def invoke_async(self, execution_id: str) -> None:
        self.started.append(execution_id)


@dataclass
class FakeLambdaContext:
    """What the runner reads from a Lambda context."""

    remaining_ms: int = 60_000
    function_name: str = "stepline-runner"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:stepline-runner"
    aws_request_id: str = dataclasses.field(default_factory=lambda: uuid.uuid4().hex)

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


class RunnerInvoker:
    """An invoker that runs each invocation through a ``Runner`` at once, as a Lambda
    invocation with its own request id would."""

    def __init__(self, runner: Any, remaining_ms: int = 60_000) -> None:
        self.runner = runner
        self.remaining_ms = remaining_ms
        self.outcomes: list[dict[str, Any]] = []

    def invoke_async(self, execution_id: str) -> None:
        context = FakeLambdaContext(remaining_ms=self.remaining_ms)
        self.outcomes.append(self.runner({"execution_id": execution_id}, context))
