"""``Client``: start executions, look them up, wait for their results.

The client writes the execution item and asks an ``Invoker`` to start the
runner asynchronously: on AWS an ``Event`` invocation of the runner Lambda, in
tests and benchmarks an ``InlineInvoker`` that runs the engine in-process.
Unknown workflows and invalid payloads are refused before anything is written.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from sdk import serde
from sdk.app import App
from sdk.cancellation import cancel_tree
from sdk.clock import Clock, SystemClock
from sdk.errors import (
    ExecutionCancelledError,
    ExecutionParkedError,
    ResultTimeoutError,
    SteplineError,
)
from sdk.events.feeds import BatchFeed
from sdk.events.publisher import Publisher, log_for
from sdk.events.topics import Published, check_topic
from sdk.ids import check_execution_id, new_execution_id
from sdk.journal.base import Journal
from sdk.journal.records import ExecutionRecord, ExecutionStatus
from sdk.sweeper import new_execution
from sdk.workflow import Workflow

if TYPE_CHECKING:
    from mypy_boto3_lambda import LambdaClient

    from sdk.engine import Engine
    from sdk.schedules.aws import ScheduleBackend
    from sdk.schedules.manager import Schedules

R = TypeVar("R")


class Invoker(Protocol):
    """Starts a runner invocation for an execution without waiting for it."""

    def invoke_async(self, execution_id: str) -> None: ...


class LambdaInvoker:
    """Starts the runner Lambda with an asynchronous (``Event``) invocation."""

    def __init__(self, client: LambdaClient, function_name: str) -> None:
        self._client = client
        self._function = function_name

    def invoke_async(self, execution_id: str) -> None:
        payload = json.dumps({"execution_id": execution_id}).encode()
        self._client.invoke(FunctionName=self._function, InvocationType="Event", Payload=payload)


class InlineInvoker:
    """Runs each invocation in this process before returning, and the ones it asks for.

    An invocation that ends asking to be re-invoked (a time limit, always-replay) is
    followed at once by the next. Inside a running event loop the invocations run on
    a helper thread, since the engine needs a loop of its own.
    """

    def __init__(self, engine: Engine, *, time_limit: timedelta | None = None) -> None:
        """``time_limit`` gives each invocation a deadline, like a Lambda function's timeout.

        The engine starts children and resumes parents through this invoker too, unless
        it already has one.
        """
        self._engine = engine
        if engine.invoker is None:
            engine.invoker = self
        self._time_limit = time_limit
        self.invocations = 0

    def _run(self, execution_id: str) -> None:
        while True:
            self.invocations += 1
            deadline = None
            if self._time_limit is not None:
                deadline = self._engine.clock.now() + self._time_limit
            outcome = asyncio.run(self._engine.run(execution_id, deadline=deadline))
            if not outcome.reinvoke:
                return

    def invoke_async(self, execution_id: str) -> None:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            self._run(execution_id)
            return
        errors: list[BaseException] = []

        def target() -> None:
            try:
                self._run(execution_id)
            except BaseException as exc:  # re-raised in the caller's thread
                errors.append(exc)

        thread = threading.Thread(target=target, name=f"stepline-{execution_id}")
        thread.start()
        thread.join()
        if errors:
            raise errors[0]


class ExecutionHandle(Generic[R]):
    """A started execution: its id, status and (eventually) result."""

    def __init__(self, client: Client, execution_id: str, workflow_id: str) -> None:
        self.client = client
        self.id = execution_id
        self.workflow_id = workflow_id

    def __repr__(self) -> str:
        return f"<ExecutionHandle {self.workflow_id} {self.id}>"

    def status(self) -> ExecutionStatus:
        return self.client.journal.get_execution(self.id).status

    def cancel(self) -> ExecutionRecord:
        """Cancel this execution and its children (see ``Client.cancel``)."""
        return self.client.cancel(self.id)

    def resume(self) -> ExecutionRecord:
        """Run this parked execution again (see ``Client.resume``)."""
        return self.client.resume(self.id)

    def result(self, timeout: float | None = None) -> R:
        """Wait for the execution to finish and return its output.

        Raises:
            ResultTimeoutError: not finished within ``timeout`` seconds.
            Exception: the workflow's own error (its type rebuilt where importable,
                else ``WorkflowFailedError``) when the execution failed.
        """
        record = self.client.wait(self.id, timeout=timeout)
        value: R = self.client.output_of(record)
        return value


class Client:
    """Starts and inspects executions of the workflows of one app."""

    def __init__(
        self,
        app: App,
        journal: Journal,
        invoker: Invoker,
        *,
        clock: Clock | None = None,
        batches: BatchFeed | None = None,
        schedule_backend: ScheduleBackend | None = None,
    ) -> None:
        """``batches``: the queues of batched workflows (needed to publish to their topics).
        ``schedule_backend`` makes runtime schedules fire (EventBridge Scheduler on AWS
        and in the emulator); without one they are kept for a virtual clock to fire."""
        self.app = app
        self.journal = journal
        self.invoker = invoker
        self.clock: Clock = clock or SystemClock()
        self.batches = batches
        self.schedule_backend = schedule_backend
        self._publisher: Publisher | None = None
        self._schedules: Schedules | None = None

    def _resolve(self, workflow: Workflow[Any] | str) -> Workflow[Any]:
        return self.app.get(workflow if isinstance(workflow, str) else workflow.id)

    def _prepare(
        self, workflow: Workflow[Any] | str, payload: Any, options: dict[str, Any]
    ) -> ExecutionRecord:
        wf = self._resolve(workflow)
        unknown = set(options) - {"execution_id", "user_id", "session_id"}
        if unknown:
            raise TypeError(f"unknown invoke options: {', '.join(sorted(unknown))}")
        chosen = options.get("execution_id")
        return new_execution(
            self.journal,
            wf,
            new_execution_id() if chosen is None else check_execution_id(chosen),
            payload,
            self.clock.now(),
            user_id=options.get("user_id"),
            session_id=options.get("session_id"),
        )

    def _start(self, record: ExecutionRecord) -> ExecutionHandle[Any]:
        stored = self.journal.create_execution(record)
        self.invoker.invoke_async(stored.execution_id)
        return ExecutionHandle(self, stored.execution_id, stored.workflow_id)

    def invoke(
        self, workflow: Workflow[R] | str, payload: Any = None, **options: Any
    ) -> ExecutionHandle[R]:
        """Start ``workflow`` with ``payload``.

        Options: ``execution_id`` (starting the same id again with the same input
        returns the existing execution; 1-200 ASCII letters, digits, ``- _ . :``, see
        ``sdk.ids.check_execution_id``), ``user_id``, ``session_id``.

        Raises:
            WorkflowNotFoundError, InvalidPayloadError, InvalidExecutionIdError: before
                anything is written.
        """
        return self._start(self._prepare(workflow, payload, options))

    def batch_invoke(
        self, items: Sequence[tuple[Workflow[Any] | str, Any]]
    ) -> list[ExecutionHandle[Any]]:
        """Start several executions; all are validated before any is written."""
        records = [self._prepare(workflow, payload, {}) for workflow, payload in items]
        return [self._start(record) for record in records]

    def publish_event(
        self,
        topic: str,
        data: dict[str, Any],
        event_type: str | None = None,
        *,
        event_id: str | None = None,
    ) -> Published:
        """Publish one event: it starts the workflows triggered by ``topic`` and satisfies
        the executions waiting on it. Returns its id and sequence id; an ``event_id``
        already in the topic returns the original (``duplicate``) and starts nothing.

        Raises:
            InvalidEventError: a bad topic, id or type, or data that is not a JSON object
                or is too large; nothing is written.
        """
        [published] = self.publish_events(
            topic, [{"data": data, "event_type": event_type, "id": event_id}]
        )
        return published

    def publish_events(self, topic: str, events: Sequence[dict[str, Any]]) -> list[Published]:
        """Publish several events to ``topic``, in order; each ``{"data", "event_type",
        "id"}`` (type and id optional). All are checked before any is written."""
        publisher = self.publisher
        checked = [
            publisher.event(e.get("data"), e.get("event_type"), e.get("id")) for e in events
        ]
        return publisher.publish(check_topic(topic), checked)

    @property
    def publisher(self) -> Publisher:
        if self._publisher is None:
            log = log_for(self.journal, self.clock)
            if log is None:
                raise SteplineError(f"a {type(self.journal).__name__} keeps no topic log")
            self._publisher = Publisher(
                self.app, self.journal, log, self.invoker, self.clock, self.batches
            )
        return self._publisher

    @property
    def schedules(self) -> Schedules:
        """The app's schedules: ``list``, ``get``, ``create``, ``delete``, ``pause``,
        ``resume`` (``sdk.schedules.manager``)."""
        if self._schedules is None:
            from sdk.schedules.manager import Schedules

            self._schedules = Schedules(
                self.app, self.journal, clock=self.clock, backend=self.schedule_backend
            )
        return self._schedules

    def cancel(self, execution_id: str) -> ExecutionRecord:
        """Cancel an execution and every unfinished execution it started.

        A pending or suspended execution is ``cancelled`` at once and its timers never
        resume it; a running one stops at its next step boundary. Returns the record as
        the request left it. Raises ``ExecutionNotFoundError``.
        """
        return cancel_tree(self.journal, execution_id, self.clock.now(), self.invoker)

    def resume(self, execution_id: str) -> ExecutionRecord:
        """Run a parked execution again, after the deployment that parked it was fixed.

        Returns the record as resumed. Raises ``ExecutionNotRunnableError`` if it is not
        parked, ``ExecutionNotFoundError`` for an unknown id.
        """
        record = self.journal.resume_execution(execution_id, now=self.clock.now())
        self.invoker.invoke_async(execution_id)
        return record

    def handle(self, execution_id: str) -> ExecutionHandle[Any]:
        """A handle on an existing execution."""
        return ExecutionHandle(self, execution_id, self.get_execution(execution_id).workflow_id)

    def get_execution(self, execution_id: str) -> ExecutionRecord:
        """The execution, with its input and output."""
        return self.journal.load_values(self.journal.get_execution(execution_id))

    def list_executions(
        self,
        *,
        workflow_id: str | None = None,
        status: ExecutionStatus | str | None = None,
        limit: int = 100,
        load_values: bool = True,
        before: tuple[datetime, str] | None = None,
    ) -> list[ExecutionRecord]:
        """Executions, newest first, optionally of one workflow and/or one status.

        With ``load_values=False`` a long input or output is left out (its size is in
        ``input_bytes`` / ``output_bytes``), which saves a read per such execution.
        ``before`` continues a listing after the ``(created_at, execution_id)`` of the last
        execution of the page before.
        """
        if workflow_id is not None:
            self.app.get(workflow_id)
        wanted = None
        if status is not None:
            try:
                wanted = ExecutionStatus(status)
            except ValueError:
                known = ", ".join(s.value for s in ExecutionStatus)
                raise SteplineError(f"unknown status {status!r} (known: {known})") from None
        found = self.journal.list_executions(
            workflow_id=workflow_id, status=wanted, limit=limit, before=before
        )
        return [self.journal.load_values(r) for r in found] if load_values else found

    def wait(self, execution_id: str, *, timeout: float | None = None) -> ExecutionRecord:
        """Poll until the execution is finished (or parked); returns its record."""
        give_up = None if timeout is None else time.monotonic() + timeout
        interval = 0.005
        while True:
            record = self.journal.get_execution(execution_id)
            if record.status.finished or record.status is ExecutionStatus.PARKED:
                return self.journal.load_values(record)
            if give_up is not None and time.monotonic() >= give_up:
                raise ResultTimeoutError(
                    f"execution {execution_id!r} is still {record.status.value} after {timeout}s"
                )
            time.sleep(interval)
            interval = min(interval * 2, 0.25)

    def output_of(self, record: ExecutionRecord) -> Any:
        """The output of a finished execution, or its error raised."""
        if record.status is ExecutionStatus.FAILED and record.error is not None:
            raise record.error.rebuild()
        if record.status is ExecutionStatus.CANCELLED:
            raise ExecutionCancelledError(f"execution {record.execution_id!r} was cancelled")
        if record.status is ExecutionStatus.PARKED:
            reason = "" if record.error is None else f" ({record.error.message})"
            raise ExecutionParkedError(
                f"execution {record.execution_id!r} is parked{reason}: deploy a fix, then "
                "resume it (client.resume, stepline resume)"
            )
        if record.status is not ExecutionStatus.COMPLETED:
            raise SteplineError(f"execution {record.execution_id!r} is {record.status.value}")
        record = self.journal.load_values(record)
        annotation = None
        if record.workflow_id in self.app:
            annotation = self.app.get(record.workflow_id).output_annotation
        return serde.loads(record.output, annotation=annotation, tag=record.output_tag)
