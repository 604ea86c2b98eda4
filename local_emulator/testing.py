"""What the pytest fixture hands a test: an app running on moto, in-process or in workers.

``InProcessStepline`` runs each invocation inline on DynamoDB in moto with a virtual
clock; ``WorkerStepline`` runs the full emulator (functions in worker processes).
Both offer ``invoke``, ``client``, ``steps`` and ``close``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import boto3

from sdk.app import App
from sdk.client import Client, ExecutionHandle, InlineInvoker, LambdaInvoker
from sdk.clock import VirtualClock
from sdk.engine import Engine
from sdk.errors import SteplineError
from sdk.journal.dynamodb import DynamoJournal, client_config
from sdk.journal.records import StepRecord
from sdk.journal.schema import table_definition
from sdk.sweeper import Sweeper
from sdk.timers import ManualTimers
from sdk.workflow import Workflow

TABLE = "stepline-test"
REGION = "us-east-1"


class _Base:
    client: Client

    def invoke(
        self, workflow: Workflow[Any] | str, payload: Any = None, **options: Any
    ) -> ExecutionHandle[Any]:
        """Start ``workflow``; ``handle.result()`` waits for its output."""
        return self.client.invoke(workflow, payload, **options)

    def steps(self, execution_id: str) -> list[StepRecord]:
        """The recorded steps of an execution, in the order the workflow called them."""
        steps = self.client.journal.load_steps(execution_id).values()
        return sorted(steps, key=lambda s: (s.position, s.key))


class InProcessStepline(_Base):
    """The app on DynamoDB in moto, in this process, on a clock that moves when told."""

    def __init__(self, modules: Sequence[str], clock: VirtualClock | None = None) -> None:
        from moto import mock_aws

        self.clock = clock or VirtualClock()
        self._mock = mock_aws()
        self._mock.start()
        dynamodb = boto3.client(
            "dynamodb",
            region_name=REGION,
            aws_access_key_id="test",
            aws_secret_access_key="test",
            config=client_config(),
        )
        dynamodb.create_table(**table_definition(TABLE))
        self.app = App.from_modules(modules)
        self.journal = DynamoJournal(dynamodb, TABLE)
        self.timers = ManualTimers()
        self.engine = Engine(self.app, self.journal, self.clock, timers=self.timers)
        self.invoker = InlineInvoker(self.engine)
        self.client = Client(self.app, self.journal, self.invoker, clock=self.clock)
        self.sweeper = Sweeper(self.journal, self.invoker, self.clock)

    def advance(
        self, *, seconds: float = 0, minutes: float = 0, hours: float = 0, days: float = 0
    ) -> None:
        """Move the virtual clock forward, resuming each execution as its wait ends and
        running the sweeper on the way (as AWS runs it every minute)."""
        length = timedelta(seconds=seconds, minutes=minutes, hours=hours, days=days)
        self.timers.advance(self.clock, length, self.invoker.invoke_async, self.sweeper.sweep)

    def close(self) -> None:
        self._mock.stop()


class WorkerStepline(_Base):
    """The full emulator: functions in worker processes, behind a loopback endpoint."""

    def __init__(self, modules: Sequence[str], workdir: str) -> None:
        from infra.template import synth
        from local_emulator.emulator import Emulator

        self.emulator = Emulator(synth(modules), workdir=workdir)
        self.emulator.start()
        stack = self.emulator.stack
        assert stack is not None
        runner = stack.function_by_handler("handlers.runner.handler").name
        self.app = App.from_modules(modules)
        journal = DynamoJournal(self.emulator.client("dynamodb"), stack.table_name)
        self.client = Client(
            self.app, journal, LambdaInvoker(self.emulator.client("lambda"), runner)
        )

    def advance(self, **_: float) -> None:
        raise SteplineError(
            "advance() needs the in-process fixture: worker processes use real time"
        )

    def close(self) -> None:
        self.emulator.stop()
