"""What the pytest fixture hands a test: an app running on moto, in-process or in workers.

``InProcessStepline`` runs each invocation inline on DynamoDB in moto with a virtual
clock, large values in S3 in moto; ``WorkerStepline`` runs the full emulator
(functions in worker processes).
Both offer ``invoke``, ``publish``, ``client``, ``steps`` and ``close``.

Each harness has a moto account of its own (``local_emulator.accounts``): an
in-process fixture neither sees nor resets the tables of an emulator running in the
same process, and harnesses can follow one another in one session. DynamoDB
requests are serialized as on the emulator (``local_emulator.dynamodb``), so
conditional writes are atomic when a test races invocations on threads.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import boto3

from local_emulator.accounts import drop_account, new_account_id, pin_account
from local_emulator.dynamodb import serialize_writes
from local_emulator.dynamodb.streams import StreamMapping
from sdk.app import App
from sdk.client import Client, ExecutionHandle, InlineInvoker, LambdaInvoker
from sdk.clock import VirtualClock
from sdk.engine import Engine
from sdk.errors import SteplineError
from sdk.events.batches import Batcher
from sdk.events.feeds import SqsBatchFeed
from sdk.events.log import log_for
from sdk.events.topics import Published
from sdk.events.windows import ManualBatchWindows
from sdk.journal.dynamodb import DynamoJournal, client_config
from sdk.journal.records import StepRecord
from sdk.journal.schema import table_definition
from sdk.sweeper import Sweeper
from sdk.timers import ManualTimers, VirtualDue
from sdk.values import S3ValueStore
from sdk.workflow import Workflow

TABLE = "stepline-test"
BUS = "stepline-test-bus"
VALUES_BUCKET = "stepline-test-values"
REGION = "us-east-1"


class _Base:
    client: Client

    def invoke(
        self, workflow: Workflow[Any] | str, payload: Any = None, **options: Any
    ) -> ExecutionHandle[Any]:
        """Start ``workflow``; ``handle.result()`` waits for its output."""
        handle = self.client.invoke(workflow, payload, **options)
        self.settle()
        return handle

    def settle(self) -> None:
        """Let what follows from the last action happen (in-process: lifecycle events)."""

    def publish(
        self,
        topic: str,
        data: dict[str, Any],
        event_type: str | None = None,
        *,
        event_id: str | None = None,
    ) -> Published:
        """Publish an event as any door would: it starts the workflows triggered by
        ``topic`` (in-process: before this returns) and satisfies its waiters."""
        published = self.client.publish_event(topic, data, event_type, event_id=event_id)
        self.settle()
        return published

    def steps(self, execution_id: str) -> list[StepRecord]:
        """The recorded steps of an execution, in the order the workflow called them."""
        steps = self.client.journal.load_steps(execution_id).values()
        return sorted((s for s in steps if not s.bookkeeping), key=lambda s: (s.position, s.key))


class InProcessStepline(_Base):
    """The app on DynamoDB in moto, in this process, on a clock that moves when told."""

    def __init__(self, modules: Sequence[str], clock: VirtualClock | None = None) -> None:
        from moto import mock_aws

        serialize_writes()
        self.clock = clock or VirtualClock()
        self.account_id = new_account_id()
        self._mock = mock_aws()
        self._mock.start(reset=False)  # a reset would wipe every other harness's state
        try:
            dynamodb = self.aws_client("dynamodb", config=client_config())
            dynamodb.create_table(**table_definition(TABLE))
            s3 = self.aws_client("s3")
            s3.create_bucket(Bucket=VALUES_BUCKET)
            self.app = App.from_modules(modules)
        except BaseException:
            self.close()
            raise
        self.values = S3ValueStore(s3, VALUES_BUCKET)
        self.journal = DynamoJournal(dynamodb, TABLE, values=self.values)
        self.timers = ManualTimers()
        # batch windows on the virtual clock stand in for SQS and its event source mapping
        self.windows = ManualBatchWindows(
            self.app, lambda items: self.batcher.start(items), self.clock
        )
        self.engine = Engine(
            self.app, self.journal, self.clock, timers=self.timers, batches=self.windows
        )
        self.invoker = InlineInvoker(self.engine)
        log = log_for(self.journal, self.clock)
        assert log is not None
        self.batcher = Batcher(self.app, self.journal, log, self.invoker, self.clock)
        self.client = Client(
            self.app, self.journal, self.invoker, clock=self.clock, batches=self.windows
        )
        self.sweeper = Sweeper(self.journal, self.invoker, self.clock, batches=self.windows)
        # what ``advance`` stops for besides wake-ups: schedule ticks, batch windows
        self.due: list[VirtualDue] = [self.windows]
        self._add_schedules()
        self.lifecycle = self._lifecycle_mapping(dynamodb)

    def _lifecycle_mapping(self, dynamodb: Any) -> StreamMapping:
        """The lifecycle publisher on the journal's stream, as the stack's mapping runs it:
        its bus is this account's ``BUS``; its topics start compensations inline."""
        from handlers.lifecycle import LifecyclePublisher, process
        from local_emulator.dynamodb.streams import StreamMapping, StreamReader, streams_client
        from sdk.events.publisher import Publisher
        from sdk.lifecycle.bus import BusPublisher

        events = self.aws_client("events")
        events.create_event_bus(Name=BUS)
        log = log_for(self.journal, self.clock)
        assert log is not None
        topics = Publisher(self.app, self.journal, log, self.invoker, self.clock, self.windows)
        publisher = LifecyclePublisher(self.journal, BusPublisher(events, BUS), topics)
        arn = dynamodb.describe_table(TableName=TABLE)["Table"]["LatestStreamArn"]
        reader = StreamReader(streams_client(self.aws_client), arn)
        return StreamMapping(reader, lambda event: (True, process(event, publisher)))

    def settle(self) -> None:
        """Publish the lifecycle events of what just ran (compensations start inline)."""
        self.lifecycle.drain()

    def _add_schedules(self) -> None:
        """The app's schedules tick as the virtual clock passes their times."""
        from sdk.schedules.ticks import Ticker
        from sdk.schedules.virtual import VirtualScheduler

        ticker = Ticker(self.app, self.journal, self.invoker, self.clock)
        self.scheduler = VirtualScheduler(ticker, self.clock)
        self.due.append(self.scheduler)

    def tick(self, workflow: Workflow[Any] | str, nominal: datetime, key: str = "default") -> Any:
        """Deliver one tick of a schedule by hand, as EventBridge Scheduler would (a
        duplicate, a late one); returns the ``TickResult``."""
        workflow_id = workflow if isinstance(workflow, str) else workflow.id
        result = self.scheduler.deliver(workflow_id, nominal, key)
        self.settle()
        return result

    def aws_client(self, service: str, **options: Any) -> Any:
        """A boto3 client of ``service`` on this fixture's moto account."""
        client = boto3.client(
            service,  # type: ignore[call-overload]
            region_name=REGION,
            aws_access_key_id="test",
            aws_secret_access_key="test",
            **options,
        )
        return pin_account(client, self.account_id)

    def advance(
        self, *, seconds: float = 0, minutes: float = 0, hours: float = 0, days: float = 0
    ) -> None:
        """Move the virtual clock forward, resuming each execution as its wait ends and
        running the sweeper on the way (as AWS runs it every minute)."""
        length = timedelta(seconds=seconds, minutes=minutes, hours=hours, days=days)
        self.timers.advance(
            self.clock, length, self.invoker.invoke_async, self.sweeper.sweep, self.due
        )
        self.settle()

    def close(self) -> None:
        self._mock.stop(remove_data=False)
        drop_account(self.account_id)


class WorkerStepline(_Base):
    """The full emulator: functions in worker processes, behind a loopback endpoint."""

    def __init__(self, modules: Sequence[str], workdir: str) -> None:
        from infra.template import synth
        from local_emulator.emulator import Emulator

        self.emulator = Emulator(synth(modules), workdir=workdir)
        self.emulator.start()
        try:
            stack = self.emulator.stack
            assert stack is not None
            runner = stack.function_by_handler("handlers.runner.handler").name
            self.app = App.from_modules(modules)
        except BaseException:
            self.emulator.stop()
            raise
        values = None
        if stack.values_bucket is not None:
            values = S3ValueStore(self.emulator.client("s3"), stack.values_bucket)
        journal = DynamoJournal(self.emulator.client("dynamodb"), stack.table_name, values=values)
        self.client = Client(
            self.app,
            journal,
            LambdaInvoker(self.emulator.client("lambda"), runner),
            batches=SqsBatchFeed(self.emulator.client("sqs"), stack.batch_queues),
        )

    def aws_client(self, service: str) -> Any:
        """A boto3 client of ``service`` at the emulator's endpoint."""
        return self.emulator.client(service)

    def advance(self, **_: float) -> None:
        raise SteplineError(
            "advance() needs the in-process fixture: worker processes use real time"
        )

    def close(self) -> None:
        self.emulator.stop()
