"""Lifecycle events on the app's EventBridge bus, and on lifecycle topics.

The publisher Lambda (``handlers.lifecycle``) reads the journal table's DynamoDB Stream:
each change of an item reveals the events its new state derives and its old one did not
(``revealed``), so nothing is derived twice from one change and nothing waits on the
workflow's own path. Workflow-level events go to the bus by default; ``all`` sends step
events too (each costs a PutEvents entry).

A workflow-level event of a workflow that others subscribe to (``trigger_on_event=
"lifecycle/<workflow id>"``) is also published to that topic, under the lifecycle
event's id: the topic log keeps one event per id and starts each handler once per
event, whatever the stream redelivers. An execution started by a lifecycle event, and
every child in its tree, feeds no lifecycle topic, so compensations can never trigger
each other in a loop.
"""

from __future__ import annotations

import enum
import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sdk.errors import SteplineError
from sdk.events.publisher import Publisher
from sdk.events.subscriptions import subscribers
from sdk.events.topics import RESERVED_PREFIX, InvalidEventError
from sdk.journal.records import ExecutionRecord, StepRecord
from sdk.lifecycle.cloudevents import CLOUDEVENT_TYPES, SOURCE, detail, on_bus
from sdk.lifecycle.derive import execution_events
from sdk.lifecycle.model import EventType, LifecycleEvent

if TYPE_CHECKING:
    from mypy_boto3_events import EventBridgeClient

logger = logging.getLogger(__name__)

LIFECYCLE_SOURCE = "stepline.lifecycle"  # the entries' Source: the topic router skips it
LIFECYCLE_TOPIC_PREFIX = RESERVED_PREFIX
MAX_ENTRIES = 10  # PutEvents' limit per request
MAX_REQUEST_BYTES = 256 * 1024  # and its size limit
PUT_ATTEMPTS = 3  # rounds for entries PutEvents reports failed (botocore retries the rest)
WORKFLOW_TYPES = frozenset(
    {
        EventType.WORKFLOW_START,
        EventType.WORKFLOW_FINISH,
        EventType.WORKFLOW_FAIL,
        EventType.WORKFLOW_CANCEL,
        EventType.WORKFLOW_SUSPEND,
        EventType.WORKFLOW_RESUME,
    }
)


class BusLevel(enum.StrEnum):
    """Which lifecycle events reach the bus (``STEPLINE_LIFECYCLE_BUS``)."""

    OFF = "off"
    WORKFLOW = "workflow"  # the default: an execution's own transitions
    ALL = "all"  # steps too

    def sends(self, event: LifecycleEvent) -> bool:
        if self is BusLevel.OFF or not on_bus(event):
            return False
        return self is BusLevel.ALL or event.event_type in WORKFLOW_TYPES


class PutEventsError(SteplineError):
    """Some entries were still refused after every attempt (the batch is retried)."""


def revealed(
    old: ExecutionRecord | None,
    new: ExecutionRecord | None,
    steps_before: Mapping[str, StepRecord] | None = None,
    steps_after: Mapping[str, StepRecord] | None = None,
) -> list[LifecycleEvent]:
    """The events the change from (``old``, ``steps_before``) to (``new``,
    ``steps_after``) reveals: derived from the new state and not from the old."""
    if new is None:  # deleted (expired): nothing happened
        return []
    before: set[str] = set()
    if old is not None:
        before = {e.id for e in execution_events(old, steps_before or {})}
    return [e for e in execution_events(new, steps_after or {}) if e.id not in before]


def started_by_lifecycle_event(execution: ExecutionRecord) -> bool:
    """Was ``execution`` started by a lifecycle topic's event (a compensation), alone or
    in a batch (``{"events": [...]}``)?"""
    try:
        payload = json.loads(execution.input or "null")
    except ValueError:
        return False
    if not isinstance(payload, dict):
        return False
    batch = payload.get("events")
    if "topic" not in payload and isinstance(batch, list):
        return any(isinstance(e, dict) and _lifecycle_topic(e.get("topic")) for e in batch)
    return _lifecycle_topic(payload.get("topic"))


def _lifecycle_topic(topic: object) -> bool:
    return isinstance(topic, str) and topic.startswith(LIFECYCLE_TOPIC_PREFIX)


def lifecycle_topic(workflow_id: str) -> str:
    return f"{LIFECYCLE_TOPIC_PREFIX}{workflow_id}"


def topic_data(event: LifecycleEvent, execution: ExecutionRecord) -> dict[str, Any]:
    """What a compensation receives: the execution, its input, its error or output."""
    error = event.error
    return {
        "execution_id": event.execution_id,
        "workflow_id": event.workflow_id,
        "event_type": event.event_type.value,
        "status": execution.status.value,
        "parent_execution_id": event.parent_execution_id,
        "root_execution_id": event.root_execution_id,
        "input": None if execution.input is None else json.loads(execution.input),
        "output": None if execution.output is None else json.loads(execution.output),
        "error": None if error is None else {
            "type": error.type, "message": error.message, "traceback": error.traceback,
        },
        "created_at": event.created_at,
    }  # fmt: skip


def subscribed(publisher: Publisher, events: Iterable[LifecycleEvent]) -> bool:
    """Does any workflow subscribe to one of ``events`` on its lifecycle topic?"""
    return any(
        e.event_type in WORKFLOW_TYPES
        and subscribers(publisher.app, lifecycle_topic(e.workflow_id), e.event_type.value)
        for e in events
    )


def publish_to_topics(
    publisher: Publisher,
    events: Iterable[LifecycleEvent],
    execution: ExecutionRecord,
    root: ExecutionRecord | None = None,
) -> int:
    """Publish the workflow-level ``events`` someone subscribes to on their lifecycle
    topic (once per event id); how many were published. ``execution`` must be loaded
    (``Journal.load_values``): its input says whether a lifecycle event started it;
    ``root`` (loaded too), the root of a child's tree, whether a lifecycle event started
    the tree (a compensation starting the failed workflow again as its child)."""
    if started_by_lifecycle_event(execution):
        return 0
    if root is not None and started_by_lifecycle_event(root):
        return 0
    count = 0
    for event in events:
        topic = lifecycle_topic(event.workflow_id)
        if event.event_type not in WORKFLOW_TYPES:
            continue
        if not subscribers(publisher.app, topic, event.event_type.value):
            continue
        data = topic_data(event, execution)
        try:
            new = publisher.event(data, event.event_type.value, event.id)
        except InvalidEventError:  # too large with its input and output: send without
            data.update(input=None, output=None, values_omitted=True)
            new = publisher.event(data, event.event_type.value, event.id)
        publisher.publish(topic, [new], internal=True)
        count += 1
    return count


@dataclass
class BusPublisher:
    """Puts lifecycle events on one bus as CloudEvents."""

    client: EventBridgeClient
    bus_name: str
    source: str = SOURCE

    def entry(self, event: LifecycleEvent) -> dict[str, Any]:
        return {
            "Source": LIFECYCLE_SOURCE,
            "DetailType": CLOUDEVENT_TYPES[event.event_type],
            "Detail": json.dumps(detail(event, source=self.source), separators=(",", ":")),
            "EventBusName": self.bus_name,
        }

    def put(self, events: Sequence[LifecycleEvent]) -> int:
        """Put ``events`` (in order, in requests within PutEvents' limits); entries it
        refuses are sent again, up to ``PUT_ATTEMPTS`` rounds. How many entries it took."""
        pending = [self.entry(event) for event in events]
        for _ in range(PUT_ATTEMPTS):
            refused: list[dict[str, Any]] = []
            for chunk in _chunks(pending):
                response = self.client.put_events(Entries=chunk)  # type: ignore[arg-type]
                if response.get("FailedEntryCount", 0):
                    results = response["Entries"]
                    refused += [e for e, r in zip(chunk, results, strict=True) if "ErrorCode" in r]
            if not refused:
                return len(events)
            logger.warning("PutEvents refused %d of %d entries; again", len(refused), len(pending))
            pending = refused
        raise PutEventsError(
            f"PutEvents still refused {len(pending)} lifecycle entries after {PUT_ATTEMPTS} rounds"
        )


def _size(entry: Mapping[str, Any]) -> int:
    """An entry's size as PutEvents counts it (close enough to stay under the limit)."""
    return sum(len(str(value).encode()) for value in entry.values())


def _chunks(entries: Sequence[dict[str, Any]]) -> Iterable[list[dict[str, Any]]]:
    chunk: list[dict[str, Any]] = []
    size = 0
    for entry in entries:
        if chunk and (len(chunk) == MAX_ENTRIES or size + _size(entry) > MAX_REQUEST_BYTES):
            yield chunk
            chunk, size = [], 0
        chunk.append(entry)
        size += _size(entry)
    if chunk:
        yield chunk
