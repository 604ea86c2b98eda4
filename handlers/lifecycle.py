"""The lifecycle publisher Lambda: the journal's DynamoDB Stream -> the bus and lifecycle topics.

Every change of an execution item reveals the workflow-level events its new image derives
and its old one did not (``sdk.lifecycle.bus.revealed``); with ``STEPLINE_LIFECYCLE_BUS=all``
every new step record also reveals its step events (read with the execution's journal),
and an execution's change of status the step events it ends (a wait that was the last
step finishes when the execution completes).
They go to the app's bus as CloudEvents (``Source: stepline.lifecycle``), and those that
workflows subscribe to go to their ``lifecycle/<workflow>`` topic.

Records are processed in order with Powertools' batch utility: a record that fails (a
PutEvents refusal that outlasted the retries, a throttled read) is reported, and Lambda
retries the stream from it (bisecting, then handing the batch to the on-failure
destination, the dead-letter queue). A redelivered record sends the same event ids
again: consumers dedup on them, and the topic log keeps one event per id.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

from handlers.config import (
    HandlerSettings,
    batch_feed_from_environ,
    journal_from_environ,
    runner_from_environ,
)
from sdk.app import App
from sdk.errors import ExecutionNotFoundError
from sdk.events.log import log_for
from sdk.events.publisher import Publisher
from sdk.journal.base import Journal
from sdk.journal.dynamodb import client_config
from sdk.journal.records import EXECUTION_SK, STEP_PREFIX, ExecutionRecord
from sdk.lifecycle.bus import (
    BusLevel,
    BusPublisher,
    publish_to_topics,
    revealed,
    subscribed,
)
from sdk.lifecycle.model import LifecycleEvent

logger = Logger(service="stepline-lifecycle")
LEVEL_VARIABLE = "STEPLINE_LIFECYCLE_BUS"


def bus_level_from_environ(environ: Mapping[str, str] | None = None) -> BusLevel:
    """``STEPLINE_LIFECYCLE_BUS``: ``workflow`` (the default), ``all`` or ``off``."""
    env = os.environ if environ is None else environ
    raw = env.get(LEVEL_VARIABLE, BusLevel.WORKFLOW.value).strip().lower()
    try:
        return BusLevel(raw)
    except ValueError:
        choices = ", ".join(level.value for level in BusLevel)
        raise RuntimeError(f"{LEVEL_VARIABLE} must be one of {choices}, got {raw!r}") from None


@dataclass
class LifecyclePublisher:
    """Turns stream records of the journal table into bus entries and topic events."""

    journal: Journal
    bus: BusPublisher
    topics: Publisher
    level: BusLevel = BusLevel.WORKFLOW
    # this batch's new step records by execution, and the executions already published
    _inserted: dict[str, set[str]] = field(default_factory=dict)
    _published: set[str] = field(default_factory=set)

    def begin(self, records: list[Mapping[str, Any]]) -> None:
        """A new batch: its step records are published per execution, all at once (one
        read of the execution's journal per batch, not one per step)."""
        self._inserted, self._published = {}, set()
        for record in records:
            keys = record.get("dynamodb", {}).get("Keys", {})
            sk = keys.get("sk", {}).get("S", "")
            if sk.startswith(STEP_PREFIX) and record.get("eventName") == "INSERT":
                key = sk[len(STEP_PREFIX) :]
                self._inserted.setdefault(keys["pk"]["S"], set()).add(key)

    def record(self, record: Mapping[str, Any]) -> int:
        """Publish what one stream record reveals; how many bus entries that took."""
        change = record.get("dynamodb", {})
        keys = change.get("Keys", {})
        sk = keys.get("sk", {}).get("S", "")
        if sk == EXECUTION_SK:
            return self._execution(change.get("OldImage"), change.get("NewImage"))
        if sk.startswith(STEP_PREFIX) and record.get("eventName") == "INSERT":
            if self.level is BusLevel.ALL:
                return self._step(keys["pk"]["S"], sk[len(STEP_PREFIX) :])
        return 0  # topic log, schedules, values, expiries: nothing to say

    def _execution(self, old_image: Any, new_image: Any) -> int:
        old = None if old_image is None else ExecutionRecord.from_item(old_image)
        new = None if new_image is None else ExecutionRecord.from_item(new_image)
        events = [e for e in revealed(old, new) if e.step_key is None]
        if new is None:
            return 0
        steps = self._ended_by(old, new)
        if not events and not steps:
            return 0
        # Topics first: a compensation must not wait on (or be lost with) the bus; both
        # are idempotent, so a record retried after a bus refusal publishes nothing twice.
        if subscribed(self.topics, events):  # its long input or output: read whole
            root = None
            if new.root_id != new.execution_id:  # a child: did a compensation start its tree?
                try:
                    root = self.journal.load_values(self.journal.get_execution(new.root_id))
                except ExecutionNotFoundError:  # expired before its child: nothing to say
                    root = None
            publish_to_topics(self.topics, events, self.journal.load_values(new), root)
        return self.bus.put([e for e in events + steps if self.level.sends(e)])

    def _ended_by(self, old: ExecutionRecord | None, new: ExecutionRecord) -> list[LifecycleEvent]:
        """With ``all``: step events the execution's own change reveals (a wait that was its
        last step ends when the execution completes; no step record says so)."""
        if self.level is not BusLevel.ALL or old is None or old.status is new.status:
            return []
        steps = self.journal.load_steps(new.execution_id)
        return [e for e in revealed(old, new, steps, steps) if e.step_key is not None]

    def _step(self, execution_id: str, key: str) -> int:
        if execution_id in self._published:  # done with an earlier record of this batch
            return 0
        inserted = self._inserted.get(execution_id, {key})
        execution = self.journal.get_execution(execution_id)
        steps = self.journal.load_steps(execution_id)
        before = {k: v for k, v in steps.items() if k not in inserted}
        events = revealed(execution, execution, before, steps)
        sent = self.bus.put([e for e in events if e.step_key is not None and self.level.sends(e)])
        self._published.add(execution_id)
        return sent


def build_from_environment() -> LifecyclePublisher:
    settings = HandlerSettings.from_environ()
    journal = journal_from_environ(settings)
    log = log_for(journal)
    assert log is not None  # the DynamoDB journal keeps one
    app = App.from_modules(settings.app_modules)
    topics = Publisher(app, journal, log, runner_from_environ(), batches=batch_feed_from_environ())
    events = boto3.client("events", config=client_config())
    bus = BusPublisher(events, os.environ["STEPLINE_BUS"])
    return LifecyclePublisher(journal, bus, topics, bus_level_from_environ())


_publisher: LifecyclePublisher | None = None


def process(event: dict[str, Any], publisher: LifecyclePublisher) -> dict[str, Any]:
    """One stream batch; the records that failed, for Lambda to retry from."""

    def one(record: DynamoDBRecord) -> int:
        return publisher.record(record.raw_event)

    publisher.begin(list(event.get("Records", [])))
    response = process_partial_response(
        event=event,
        record_handler=one,
        processor=BatchProcessor(event_type=EventType.DynamoDBStreams),
        context=None,
    )
    return dict(response)


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The Lambda entry point: one batch of the journal table's stream."""
    global _publisher
    if _publisher is None:
        _publisher = build_from_environment()
    return process(event, _publisher)
