"""Publishing: one path for every door (a workflow step, the client, the HTTP API, the
event router fed by EventBridge).

``Publisher.publish`` appends each event to its topic's log together with one new
execution per subscribed workflow (ids derived from workflow, topic and event id, so a
redelivered event starts nothing new), invokes those executions, queues the event for
each batched subscriber (``sdk.events.batches``), then wakes the topic's waiters and
takes the event off the sweeper's list. A publisher that dies after the append loses
nothing: the executions are created and due (the sweeper starts them), and the event
stays pending until ``sweep`` queues it and wakes its waiters. An event is refused, with
nothing written, when an execution it starts could not store its input: a triggered
one, or a batch holding it alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sdk.clock import Clock, SystemClock
from sdk.errors import SteplineError
from sdk.events.batches import batch_subscribers
from sdk.events.feeds import BatchFeed, BatchItem
from sdk.events.log import TopicLog, log_for
from sdk.events.subscriptions import subscribers
from sdk.events.topics import (
    RESERVED_PREFIX,
    InvalidEventError,
    NewEvent,
    Published,
    TopicEvent,
    check_topic,
)
from sdk.events.waking import invoke_quietly, logger, sweep_pending, wake_waiters
from sdk.ids import derived_id
from sdk.journal.base import Journal
from sdk.journal.records import ExecutionRecord
from sdk.payloads import BatchEventPayload
from sdk.sweeper import new_execution
from sdk.workflow import Workflow

if TYPE_CHECKING:
    from sdk.app import App
    from sdk.client import Invoker


def triggered_id(workflow_id: str, topic: str, event_id: str) -> str:
    """The execution an event starts for one workflow: the same on every delivery."""
    return f"{workflow_id}:{derived_id('event', topic, event_id)}"


class Publisher:
    """Publishes events of ``app``'s topics into ``log`` and starts their handlers."""

    def __init__(
        self,
        app: App,
        journal: Journal,
        log: TopicLog,
        invoker: Invoker | None,
        clock: Clock | None = None,
        batches: BatchFeed | None = None,
    ) -> None:
        """``batches`` queues the events of batched workflows (needed once an app has one)."""
        self.app = app
        self.journal = journal
        self.log = log
        self.invoker = invoker
        self.clock: Clock = clock or SystemClock()
        self.batches = batches

    def event(self, data: Any, event_type: Any = None, event_id: Any = None) -> NewEvent:
        """An event to publish, checked against the log's limits."""
        return NewEvent.of(data, event_type, event_id, max_bytes=self.log.max_data_bytes)

    def publish(
        self, topic: str, events: Sequence[NewEvent], *, internal: bool = False
    ) -> list[Published]:
        """Publish ``events`` to ``topic`` in order; their ids and sequence ids.

        Topics under ``lifecycle/`` take only Stepline's own lifecycle events
        (``internal``, from ``sdk.lifecycle.bus``); anyone else is refused.
        """
        check_topic(topic)
        if topic.startswith(RESERVED_PREFIX) and not internal:
            raise InvalidEventError(
                f"topic {topic[:60]!r} is reserved: Stepline publishes lifecycle events to "
                f"topics under {RESERVED_PREFIX!r} (subscribe to them with trigger_on_event)"
            )
        return [self._publish_one(topic, event) for event in events]

    def _publish_one(self, topic: str, event: NewEvent) -> Published:
        handlers = subscribers(self.app, topic, event.event_type)
        batched = batch_subscribers(self.app, topic, event.event_type)
        feeds = [wf.id for wf in batched]
        if feeds and self.batches is None:
            raise SteplineError(
                f"workflow {feeds[0]!r} takes batches of {topic!r} events, but this "
                "publisher has no batch queues to send them to"
            )

        def starts(stored: TopicEvent) -> list[ExecutionRecord]:
            for wf in batched:
                self._check_batch_input(wf, stored)
            return [self._execution(wf, stored) for wf in handlers]

        published = self.log.append(topic, event, starts if handlers or batched else None, feeds)
        if published.duplicate:
            return published  # its first publish started, queued and woke what it had to
        for wf in handlers:
            self._invoke(triggered_id(wf.id, topic, event.id))
        try:
            if self.batches is not None and feeds:
                self.batches.send(
                    [BatchItem(wf, topic, published.sequence_id, event.id) for wf in feeds]
                )
            self.wake_waiters(topic)
            self.log.clear_pending(topic, event.id)
        except Exception:  # published: the event stays pending and the sweeper finishes
            logger.exception("queueing or waking for %s on %r failed", event.id, topic)
        return published

    def _execution(self, wf: Workflow[Any], event: TopicEvent) -> ExecutionRecord:
        execution_id = triggered_id(wf.id, event.topic, event.id)
        return new_execution(self.journal, wf, execution_id, event.payload(), self.clock.now())

    def _check_batch_input(self, wf: Workflow[Any], event: TopicEvent) -> None:
        """Refuse ``event`` (``SerializationError``) if a batch of ``wf`` holding it alone
        would have an input too large to store: no batch could ever take it."""
        wf.encode_input(
            BatchEventPayload(events=[event.payload()]), limit=self.journal.max_value_bytes
        )

    def _invoke(self, execution_id: str) -> None:
        invoke_quietly(self.invoker, execution_id)  # created and due: else the sweeper does

    def wake_waiters(self, topic: str) -> int:
        """Wake every execution waiting on ``topic``; how many were invoked."""
        return wake_waiters(self.log, self.journal, self.invoker, topic)

    def sweep(self, now: datetime | None = None) -> int:
        """Queue and wake for the events whose publisher died first; how many events."""
        now = now or self.clock.now()
        return sweep_pending(self.log, self.journal, self.invoker, now, self.batches)


__all__ = ["Publisher", "log_for", "triggered_id"]
