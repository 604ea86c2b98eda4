"""Batched handlers: a workflow run once per batch of its topic's events.

A publisher appends an event to its topic's log, then sends one ``BatchItem`` per
batched subscriber (``batch_size``) to that workflow's queue (``BatchFeed``: an SQS
queue on AWS). The queue's event source mapping hands the batch function up to
``batch_size`` messages, or what arrived within ``batch_timeout_seconds`` of the first,
and ``Batcher.start`` turns them into one execution whose input is a
``BatchEventPayload`` of the events in sequence order.

Each event lands in exactly one batch execution of each batched workflow, whatever the
queue redelivers: the execution (its id derived from its events) is created in one
transaction with a *claim* per event (``TopicLog.claim_batch``). A delivery whose events
were all claimed by this very batch finds its execution and starts nothing new; events
another batch already claimed are dropped from this one, which is then claimed afresh
under the id of what is left. A crash between claiming and invoking loses nothing: the
execution is created due, and the sweeper starts it. A publisher that dies before
sending leaves its event pending; the sweeper sends it (``sweep_pending``).

A batch whose input (its events' data) would be too large for the journal is cut into
batches that fit, the same way on every delivery; an event too large for a batch of its
own is failed (the publisher refuses such events, ``Publisher``).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sdk.clock import Clock, SystemClock
from sdk.errors import SerializationError
from sdk.events.feeds import BatchItem
from sdk.events.log import TopicLog
from sdk.events.subscriptions import wants
from sdk.events.topics import MAX_BATCH_EVENTS, TopicEvent
from sdk.events.waking import invoke_quietly
from sdk.ids import derived_id
from sdk.journal.base import Journal
from sdk.journal.records import ExecutionRecord
from sdk.payloads import BatchEventPayload
from sdk.sweeper import new_execution
from sdk.workflow import Workflow

if TYPE_CHECKING:
    from sdk.app import App
    from sdk.client import Invoker

logger = logging.getLogger("stepline.events")
# What a batch input holds of one event besides its data, at most: its id (256), topic
# and type (128 each), sequence id, time, and the names of the fields.
EVENT_ENVELOPE_BYTES = 1024


def batch_subscribers(
    workflows: Iterable[Workflow[Any]], topic: str, event_type: str | None
) -> list[Workflow[Any]]:
    """The batched workflows (``batch_size``) an event of ``topic`` is queued for."""
    return [wf for wf in workflows if wf.batch_size is not None and wants(wf, topic, event_type)]


def batch_execution_id(workflow_id: str, events: Sequence[TopicEvent]) -> str:
    """The execution of a batch: the same for the same events, whatever their order."""
    keys = sorted(f"{event.topic}\x1e{event.id}" for event in events)
    return f"{workflow_id}:{derived_id('batch', *keys)}"


def _guess(events: Sequence[TopicEvent], limit: int) -> int:
    """How many of ``events``, from the first, a batch input of ``limit`` bytes holds by
    the sizes of their data (at least one)."""
    count, total = 0, 0
    for event in events:
        total += len(event.data) + EVENT_ENVELOPE_BYTES  # data is ASCII JSON (encode_data)
        if total > limit:
            break
        count += 1
    return max(count, 1)


def runs(sequence_ids: Iterable[int]) -> list[tuple[int, int]]:
    """The runs of consecutive ids, first and last: ``[1, 2, 3, 7, 9, 10]`` ->
    ``[(1, 3), (7, 7), (9, 10)]``."""
    found: list[tuple[int, int]] = []
    for sequence_id in sorted(set(sequence_ids)):
        if found and found[-1][1] == sequence_id - 1:
            found[-1] = (found[-1][0], sequence_id)
        else:
            found.append((sequence_id, sequence_id))
    return found


@dataclass
class BatchResult:
    """What ``Batcher.start`` did with a delivery."""

    started: list[str] = field(default_factory=list)  # batch executions (new or found again)
    failed: list[BatchItem] = field(default_factory=list)  # items that can never be batched


class Batcher:
    """Turns a delivery of batch messages into batch executions of ``app``'s workflows."""

    def __init__(
        self,
        app: App,
        journal: Journal,
        log: TopicLog,
        invoker: Invoker | None,
        clock: Clock | None = None,
    ) -> None:
        self.app = app
        self.journal = journal
        self.log = log
        self.invoker = invoker
        self.clock: Clock = clock or SystemClock()

    def start(self, items: Sequence[BatchItem]) -> BatchResult:
        """Claim the events of ``items`` for batch executions and invoke them.

        Items naming an unknown or unbatched workflow, an event the log does not hold or
        one too large for a batch, are returned as failed (retrying them cannot help).
        Raises when the journal cannot be written: nothing is lost, the delivery is
        retried whole.
        """
        result = BatchResult()
        by_workflow: dict[str, set[BatchItem]] = defaultdict(set)
        for item in items:
            by_workflow[item.workflow_id].add(item)  # a message delivered twice counts once
        for workflow_id, unique in sorted(by_workflow.items()):
            workflow = self.app.get(workflow_id) if workflow_id in self.app else None
            if workflow is None or workflow.batch_size is None:
                logger.error("batch messages for %r, which takes no batches", workflow_id)
                result.failed += sorted(unique)
                continue
            events, missing = self._events(sorted(unique))
            started, unfit = self._claim(workflow, events)
            result.started += started
            result.failed += missing + sorted(item for item in unique if item.key in unfit)
        for execution_id in result.started:
            invoke_quietly(self.invoker, execution_id)  # created due: else the sweeper does
        return result

    def _events(self, items: list[BatchItem]) -> tuple[list[TopicEvent], list[BatchItem]]:
        """The events ``items`` name, and the items whose event the log does not hold."""
        found: dict[tuple[str, int], TopicEvent] = {}
        missing: list[BatchItem] = []
        by_topic: dict[str, list[BatchItem]] = defaultdict(list)
        for item in items:
            by_topic[item.topic].append(item)
        for topic, wanted in by_topic.items():
            held = self._read(topic, [item.sequence_id for item in wanted])
            for item in wanted:
                event = held.get(item.sequence_id)
                if event is None or event.id != item.event_id:
                    logger.error("batch message for %s #%d: no such event", topic, item.sequence_id)
                    missing.append(item)
                else:
                    found[item.key] = event
        return list(found.values()), missing

    def _read(self, topic: str, sequence_ids: list[int]) -> dict[int, TopicEvent]:
        """The events of ``topic`` with ``sequence_ids`` that the log holds, by sequence
        id: one read per run of consecutive ids (more only past a page), never the
        events between two runs (a redelivered message may be far behind the others)."""
        held: dict[int, TopicEvent] = {}
        for first, last in runs(sequence_ids):
            after = first - 1
            while after < last:
                page = self.log.read(topic, after=after, limit=min(last - after, 100))
                held.update((e.sequence_id, e) for e in page if e.sequence_id <= last)
                if not page:
                    break
                after = page[-1].sequence_id
        return held

    def _claim(
        self, workflow: Workflow[Any], events: list[TopicEvent]
    ) -> tuple[list[str], set[tuple[str, int]]]:
        """Claim ``events`` for batch executions of ``workflow``: the executions started,
        and the events too large for a batch input of their own (claimed by none)."""
        remaining = sorted(events, key=lambda event: (event.topic, event.sequence_id))
        started: list[str] = []
        unfit: set[tuple[str, int]] = set()
        while remaining:
            size, record = self._fitting(workflow, remaining[:MAX_BATCH_EVENTS])
            if record is None:
                event = remaining.pop(0)
                logger.error(
                    "%s #%d is too large for a batch of %s", event.topic, event.sequence_id,
                    workflow.id,
                )  # fmt: skip
                unfit.add((event.topic, event.sequence_id))
                continue
            batch = remaining[:size]
            taken = self.log.claim_batch(workflow.id, batch, record)
            if not taken:
                started.append(record.execution_id)
                remaining = remaining[size:]
                continue
            logger.info(
                "%d events of a batch of %s are in another batch already", len(taken), workflow.id
            )
            remaining = [e for e in remaining if (e.topic, e.sequence_id) not in taken]
        return started, unfit

    def _fitting(
        self, workflow: Workflow[Any], events: list[TopicEvent]
    ) -> tuple[int, ExecutionRecord | None]:
        """A run of ``events`` from the first whose batch input the journal stores: its
        length and execution; ``(0, None)`` if not even the first alone fits.

        The run is as long as the sizes of the events' data allow (``_guess``), checked by
        encoding it, so a cut costs about one encoding of what it keeps; only a wrong
        guess costs a bisection. The same events always give the same cut.
        """
        guess = _guess(events, self.journal.max_value_bytes)
        try:
            return guess, self._execution(workflow, events[:guess])
        except SerializationError:
            pass
        size, record = 0, None
        low, high = 1, guess - 1
        while low <= high:  # a shorter run's input is never longer
            middle = (low + high) // 2
            try:
                record, size = self._execution(workflow, events[:middle]), middle
            except SerializationError:
                high = middle - 1
            else:
                low = middle + 1
        return size, record

    def _execution(self, workflow: Workflow[Any], events: list[TopicEvent]) -> ExecutionRecord:
        payload = BatchEventPayload(events=[event.payload() for event in events])
        execution_id = batch_execution_id(workflow.id, events)
        return new_execution(self.journal, workflow, execution_id, payload, self.clock.now())
