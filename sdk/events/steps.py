"""``ctx.step.publish_event`` and ``ctx.step.wait_for_event``.

``publish_event`` is a step whose event id derives from the execution id and the step
key: a retried or replayed step publishes nothing twice.

``wait_for_event`` first registers the execution as a waiter on the topic and records
where the topic stood (a bookkeeping record: the topic's last sequence id, the deadline),
then looks in the log. A publisher appends, then looks for waiters; so either the wait
sees the event or the publisher sees the waiter and wakes the execution. The wait takes
the oldest event of the topic it has not consumed yet that was published after the
execution started, and records it: that one conditional write decides. With a
``timeout``, an event created before the deadline is taken even if found later; only
after the deadline (plus ``TIMEOUT_GRACE``, for a publish in flight) with no such event
does the wait record the timeout and raise ``EventWaitTimeoutError``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sdk.errors import EventWaitTimeoutError, SteplineError
from sdk.events.log import TopicLog, Waiter
from sdk.events.publisher import Publisher, triggered_id
from sdk.events.topics import TopicEvent, check_topic
from sdk.execution import ExecutionState
from sdk.failures import ErrorInfo
from sdk.ids import derived_id
from sdk.journal.records import StepRecord, StepStatus, iso, parse_iso
from sdk.operations.base import perform
from sdk.payloads import EventPayload
from sdk.replay import SLOT, StepCall, check_key

WAIT_TYPE = "wait_for_event"
WAITING_TYPE = "wait_for_event_waiting"  # bookkeeping: the wait registered
TIMEOUT_GRACE = timedelta(seconds=2)
SCAN_LIMIT = 100


@dataclass(frozen=True)
class PublishedEvent:
    """What ``publish_event`` returns: the event's id and its place in the topic."""

    id: str
    sequence_id: int
    topic: str


def _publisher(state: ExecutionState) -> Publisher:
    if state.publisher is None:
        raise SteplineError("this engine cannot publish events (no topic log)")
    return state.publisher


async def publish_event(
    state: ExecutionState, key: str, topic: str, data: Any, event_type: str | None
) -> PublishedEvent:
    publisher = _publisher(state)
    check_topic(topic)
    event = publisher.event(data, event_type, f"evt_{derived_id(state.execution_id, key)}")

    async def execute() -> tuple[StepRecord, BaseException | None]:
        now = state.now()
        with state.infrastructure(f"cannot publish to topic {topic!r}"):
            [published] = publisher.publish(topic, [event])
        output = {"id": published.id, "sequence_id": published.sequence_id, "topic": topic}
        record = StepRecord(
            key, "publish_event", topic, StepStatus.COMPLETED, output=json.dumps(output),
            started_at=now, finished_at=state.now(), position=state.position(key),
        )  # fmt: skip
        return record, None

    call = StepCall(check_key(key), "publish_event", topic)
    recorded: dict[str, Any] = await perform(state, call, execute, dict[str, Any])
    return PublishedEvent(**recorded)


def _register(
    state: ExecutionState, log: TopicLog, key: str, topic: str, timeout: timedelta | None
) -> StepRecord:
    """Register as a waiter, then record where the topic stood and the deadline."""
    state.before_new_step()
    state.started()
    try:
        now = state.now()
        with state.infrastructure(f"cannot wait on topic {topic!r}"):
            log.add_waiter(topic, Waiter(state.execution_id, key))
            head = log.last_sequence(topic)
        deadline = None if timeout is None else iso(now + timeout)
        return state.record(StepRecord(
            f"{key}{SLOT}waiting", WAITING_TYPE, topic, StepStatus.COMPLETED,
            output=json.dumps({"head": head, "deadline": deadline}),
            started_at=now, finished_at=now, position=state.position(key),
        ))  # fmt: skip
    finally:
        state.stopped()


def _consumed(state: ExecutionState, topic: str) -> set[int]:
    """The sequence ids this execution's waits on ``topic`` have taken."""
    return {
        json.loads(record.output or "{}")["sequence_id"]
        for record in state.steps.values()
        if record.step_type == WAIT_TYPE
        and record.callable_name == topic
        and record.status is StepStatus.COMPLETED
    }


def _since_start(log: TopicLog, topic: str, head: int, since: datetime) -> list[TopicEvent]:
    """The events up to ``head`` created at or after ``since``, oldest first (paging back
    from ``head`` until an older one)."""
    found: list[TopicEvent] = []
    upto = head
    while upto > 0:
        page = log.read_back(topic, upto=upto, limit=SCAN_LIMIT)
        recent = [e for e in page if e.created_at >= since]
        found += recent
        if not page or len(recent) < len(page):
            break
        upto = page[-1].sequence_id - 1
    return sorted(found, key=lambda e: e.sequence_id)


def _trigger(state: ExecutionState, topic: str) -> int:
    """The sequence id of the event of ``topic`` that started this execution, if one did:
    a handler waiting on its own topic never takes its own trigger."""
    try:
        payload = json.loads(state.execution.input or "null")
    except ValueError:
        return 0
    if not isinstance(payload, dict) or payload.get("topic") != topic:
        return 0
    event_id, sequence_id = payload.get("id"), payload.get("sequence_id")
    if not isinstance(event_id, str) or not isinstance(sequence_id, int):
        return 0
    started = triggered_id(state.execution.workflow_id, topic, event_id)
    return sequence_id if started == state.execution_id else 0


def _candidate(
    state: ExecutionState, log: TopicLog, topic: str, head: int, deadline: datetime | None
) -> tuple[TopicEvent | None, int]:
    """The oldest event this wait may take: published after the execution started (those
    up to ``head`` were there when the wait began), not its trigger, not taken by another
    wait, created before the deadline; and the last sequence id looked at."""
    taken = _consumed(state, topic)
    trigger = _trigger(state, topic)

    def takeable(event: TopicEvent) -> bool:
        return event.sequence_id not in taken and event.sequence_id > trigger

    for event in _since_start(log, topic, head, state.execution.created_at):
        if takeable(event):
            return (None if deadline is not None and event.created_at > deadline else event), head
    seen = head
    while True:
        page = log.read(topic, after=seen, limit=SCAN_LIMIT)
        for event in page:
            seen = event.sequence_id
            if takeable(event):
                late = deadline is not None and event.created_at > deadline
                return (None if late else event), seen
        if len(page) < SCAN_LIMIT:
            return None, seen


def _deadline(waiting: StepRecord) -> datetime | None:
    """The deadline the wait's bookkeeping record holds (``None``: no timeout)."""
    deadline = json.loads(waiting.output or "{}")["deadline"]
    return None if deadline is None else parse_iso(deadline)


def _decide(
    state: ExecutionState, log: TopicLog, key: str, topic: str, waiting: StepRecord
) -> StepRecord | None:
    """Record the event taken or the timeout; ``None`` while neither has happened."""
    deadline = _deadline(waiting)
    head = int(json.loads(waiting.output or "{}")["head"])
    with state.infrastructure(f"cannot read topic {topic!r}"):
        event, seen = _candidate(state, log, topic, head, deadline)
    now = state.now()
    if event is not None:
        record = StepRecord(
            key, WAIT_TYPE, topic, StepStatus.COMPLETED, output=json.dumps(event.to_json()),
            started_at=waiting.started_at, finished_at=now, position=state.position(key),
        )  # fmt: skip
    elif deadline is not None and now >= deadline + TIMEOUT_GRACE:
        error = EventWaitTimeoutError(
            f"wait_for_event {key!r}: no event on topic {topic!r} before {iso(deadline)}"
        )
        # ``seen``: the topic's events up to this one were looked at; a later one came after
        record = StepRecord(
            key, WAIT_TYPE, topic, StepStatus.FAILED, output=json.dumps({"seen": seen}),
            error=ErrorInfo.from_exception(error),
            started_at=waiting.started_at, finished_at=now, position=state.position(key),
        )  # fmt: skip
    else:
        return None
    stored = state.record(record)
    try:
        log.remove_waiter(topic, Waiter(state.execution_id, key))
    except Exception:  # noqa: BLE001 - a stale waiter only costs a wake-up that finds nothing
        pass
    return stored


async def wait_for_event(
    state: ExecutionState, key: str, topic: str, timeout: float | timedelta | None
) -> EventPayload:
    length = _timeout(timeout)
    check_topic(topic)
    log = _publisher(state).log
    record = state.begin(StepCall(check_key(key), WAIT_TYPE, topic))
    if record is None:
        waiting = state.steps.get(f"{key}{SLOT}waiting") or _register(
            state, log, key, topic, length
        )
        record = _decide(state, log, key, topic, waiting)
        if record is None:
            deadline = _deadline(waiting)
            wake_at = None if deadline is None else deadline + TIMEOUT_GRACE
            await state.block(key, wake_at, reports=1)
    if record.status is StepStatus.FAILED:
        assert record.error is not None
        raise record.error.rebuild(step_key=key)
    return payload_of(json.loads(record.output or "{}"))


def payload_of(event: dict[str, Any]) -> EventPayload:
    created = event.get("created_at")
    return EventPayload(
        id=event["id"],
        sequence_id=int(event["sequence_id"]),
        topic=event["topic"],
        data=event.get("data"),
        event_type=event.get("event_type"),
        created_at=None if created is None else datetime.fromisoformat(created),
    )


def _timeout(timeout: float | timedelta | None) -> timedelta | None:
    if timeout is None:
        return None
    if isinstance(timeout, timedelta):
        seconds = timeout.total_seconds()
    elif isinstance(timeout, bool) or not isinstance(timeout, int | float):
        raise ValueError(f"wait_for_event timeout must be seconds or a timedelta, got {timeout!r}")
    else:
        seconds = float(timeout)
    if seconds <= 0:
        raise ValueError(f"wait_for_event timeout must be positive, got {timeout!r}")
    return timedelta(seconds=seconds)
