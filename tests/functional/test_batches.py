"""Batched handlers: windows, one execution per batch, and each event in exactly one batch
whatever is redelivered, raced, lost or killed (memory and DynamoDB journals alike)."""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest

from sdk import BatchEventPayload, EventPayload, WorkflowContext, workflow
from sdk.clock import VirtualClock
from sdk.errors import SteplineError
from sdk.events.batches import Batcher
from sdk.events.feeds import BatchItem
from sdk.events.log import log_for
from sdk.events.publisher import Publisher
from sdk.journal.base import Journal
from sdk.journal.dynamodb import DynamoJournal
from sdk.journal.records import ExecutionStatus
from tests.support import CALLS, TABLE, Harness, QueueInvoker, effect

Build = Callable[..., Harness]


@workflow(id="bt-batch", trigger_on_event="bt/clicks", batch_size=4, batch_timeout_seconds=10)
async def batched(ctx: WorkflowContext, payload: BatchEventPayload) -> list[int]:
    await ctx.step.run("count", effect, "batch", len(payload.events))
    return [event.data["n"] for event in payload.events]


@workflow(id="bt-each", trigger_on_event="bt/clicks")
async def each(ctx: WorkflowContext, payload: EventPayload) -> int:
    await ctx.step.run("one", effect, "each")
    return int(payload.data["n"])


@workflow(id="bt-at-once", trigger_on_event="bt/now", batch_size=3)
async def at_once(ctx: WorkflowContext, payload: BatchEventPayload) -> list[int]:
    return [event.data["n"] for event in payload.events]


def batch_outputs(h: Harness, workflow_id: str = "bt-batch") -> list[list[int]]:
    """The outputs of the finished batches, oldest first."""
    records = [r for r in h.client.list_executions() if r.workflow_id == workflow_id]
    finished = [r for r in records if r.status.finished]
    assert all(r.status is ExecutionStatus.COMPLETED for r in finished), finished
    return sorted((h.client.output_of(r) for r in finished), key=lambda out: out[0])


def publish(h: Harness, topic: str, count: int, start: int = 0) -> list[Any]:
    return [h.client.publish_event(topic, {"n": n}) for n in range(start, start + count)]


# ----------------------------------------------------------------------------- windows


def test_a_full_batch_starts_at_once_and_the_rest_when_the_window_closes(harness: Build) -> None:
    h = harness(batched, each)
    publish(h, "bt/clicks", 6)
    assert batch_outputs(h) == [[0, 1, 2, 3]]  # batch_size reached: no wait
    h.advance(seconds=9.5)
    assert batch_outputs(h) == [[0, 1, 2, 3]]
    assert [i.sequence_id for i in h.windows.pending("bt-batch")] == [5, 6]
    h.advance(seconds=0.5)  # 10 s since the first of the two arrived
    assert batch_outputs(h) == [[0, 1, 2, 3], [4, 5]]
    # the immediate handler of the same topic got every event, one execution each
    assert CALLS == {"batch": 2, "each": 6}


def test_without_a_window_a_batch_holds_what_arrived_together(harness: Build) -> None:
    h = harness(at_once)
    h.client.publish_events("bt/now", [{"data": {"n": n}} for n in range(7)])
    assert batch_outputs(h, "bt-at-once") == [[0], [1], [2], [3], [4], [5], [6]]


def test_a_batch_holds_its_events_in_sequence_order_with_their_ids(harness: Build) -> None:
    h = harness(batched)
    published = publish(h, "bt/clicks", 4)
    [record] = h.client.list_executions()
    payload = batched.decode_input(h.journal.load_values(record).input)
    assert [(e.id, e.sequence_id, e.topic) for e in payload.events] == [
        (p.id, p.sequence_id, "bt/clicks") for p in published
    ]


# ------------------------------------------------------- exactly one batch per event


def _deliver_shuffled(h: Harness, items: list[BatchItem], seed: int) -> int:
    """Every item delivered three times, shuffled, in batches of 1 to 4; how many."""
    rng = random.Random(seed)
    copies = items * 3
    rng.shuffle(copies)
    deliveries = 0
    while copies:
        size = rng.randint(1, 4)
        h.batcher.start(copies[:size])
        copies = copies[size:]
        deliveries += 1
    return deliveries


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_every_message_delivered_three_times_puts_each_event_in_one_batch(
    harness: Build, seed: int
) -> None:
    h = harness(batched)
    h.windows.rules["bt-batch"] = (10**6, h.windows.rules["bt-batch"][1])  # hold them all
    published = publish(h, "bt/clicks", 20)
    items = h.windows.pending("bt-batch")
    assert len(items) == 20
    deliveries = _deliver_shuffled(h, items, seed)
    outputs = batch_outputs(h)
    assert Counter(n for batch in outputs for n in batch) == Counter(range(20))
    assert len(outputs) < deliveries  # redeliveries started nothing of their own
    assert sum(CALLS.values()) == len(outputs)
    assert len(published) == 20


def test_racing_deliveries_of_overlapping_batches_claim_each_event_once(
    journal: Journal, clock: VirtualClock
) -> None:
    """Three Lambda environments start overlapping batches at the same moment."""
    h = Harness.build(journal, clock, [batched])
    h.windows.rules["bt-batch"] = (10**6, h.windows.rules["bt-batch"][1])
    publish(h, "bt/clicks", 8)
    items = h.windows.pending("bt-batch")
    invoker = QueueInvoker()
    barrier = threading.Barrier(3)
    errors: list[BaseException] = []

    def deliver(chunk: list[BatchItem]) -> None:
        log = log_for(journal, clock)  # each environment its own
        assert log is not None
        batcher = Batcher(h.app, journal, log, invoker, clock)
        barrier.wait()
        try:
            batcher.start(chunk)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    chunks = [items[0:4], items[2:6], items[4:8]]
    threads = [threading.Thread(target=deliver, args=(chunk,)) for chunk in chunks]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    for execution_id in set(invoker.started):
        h.invoker.invoke_async(execution_id)
    outputs = batch_outputs(h)
    assert Counter(n for batch in outputs for n in batch) == Counter(range(8))


@pytest.mark.parametrize("kind", ["lost_response", "throttle"])
def test_a_claim_answered_with_a_fault_still_makes_one_batch(
    dynamodb_client: Any, clock: VirtualClock, kind: str
) -> None:
    from tests.faults import FaultInjector, FaultKind, skip_backoff

    h = Harness.build(DynamoJournal(dynamodb_client, TABLE), clock, [batched])
    h.windows.rules["bt-batch"] = (10**6, h.windows.rules["bt-batch"][1])
    publish(h, "bt/clicks", 4)
    items = h.windows.pending("bt-batch")
    injector = FaultInjector(
        random.Random(5), 1.0, [FaultKind(kind)], faults_per_call=1,
        operations={"TransactWriteItems", "Query", "GetItem"},
    )  # fmt: skip
    injector.attach(dynamodb_client)
    with skip_backoff():
        h.batcher.start(items)
        h.batcher.start(items[1:3])  # and a partial redelivery
    assert any(fault.operation == "TransactWriteItems" for fault in injector.log)
    assert batch_outputs(h) == [[0, 1, 2, 3]]


def test_a_batcher_dying_between_claiming_and_invoking_loses_nothing(harness: Build) -> None:
    h = harness(batched)
    h.windows.rules["bt-batch"] = (10**6, h.windows.rules["bt-batch"][1])
    publish(h, "bt/clicks", 4)
    dead = Batcher(h.app, h.journal, h.batcher.log, None, h.clock)  # never invokes
    [execution_id] = dead.start(h.windows.pending("bt-batch")).started
    assert h.client.get_execution(execution_id).status is ExecutionStatus.PENDING
    h.advance(minutes=1)  # the sweeper finds it due and starts it
    assert batch_outputs(h) == [[0, 1, 2, 3]]


def test_a_publisher_dying_before_it_queued_leaves_the_event_to_the_sweeper(
    harness: Build, monkeypatch: pytest.MonkeyPatch
) -> None:
    h = harness(batched, each)
    real_send = h.windows.send
    failing = [True]

    def send_once_failing(items: list[BatchItem]) -> None:
        if failing[0]:
            failing[0] = False
            raise ConnectionError("the Lambda died here")
        real_send(items)

    monkeypatch.setattr(h.windows, "send", send_once_failing)
    published = h.client.publish_event("bt/clicks", {"n": 7})
    assert published.sequence_id == 1 and h.windows.pending("bt-batch") == []
    assert CALLS == {"each": 1}  # the immediate handler did not wait for the queue
    h.advance(seconds=31)  # past the pending grace: the sweeper queues it
    h.advance(seconds=10)  # and its window closes
    assert batch_outputs(h) == [[7]]
    h.advance(minutes=5)  # nothing is queued twice
    assert batch_outputs(h) == [[7]]


def test_a_republished_event_is_queued_once(harness: Build) -> None:
    h = harness(batched)
    for _ in range(3):
        h.client.publish_event("bt/clicks", {"n": 1}, event_id="same")
    assert [i.event_id for i in h.windows.pending("bt-batch")] == ["same"]


def test_a_publisher_without_batch_queues_refuses_and_writes_nothing(
    journal: Journal, clock: VirtualClock
) -> None:
    h = Harness.build(journal, clock, [batched])
    log = log_for(journal, clock)
    assert log is not None
    bare = Publisher(h.app, journal, log, h.invoker, clock)
    with pytest.raises(SteplineError, match="'bt-batch' takes batches of 'bt/clicks'"):
        bare.publish("bt/clicks", [bare.event({"n": 1})])
    assert log.last_sequence("bt/clicks") == 0


def test_messages_naming_no_event_or_no_batched_workflow_are_failed_not_batched(
    harness: Build,
) -> None:
    h = harness(batched, each)
    h.windows.rules["bt-batch"] = (10**6, h.windows.rules["bt-batch"][1])
    [good] = [p for p in publish(h, "bt/clicks", 1)]
    real = h.windows.pending("bt-batch")
    bogus = [
        BatchItem("bt-batch", "bt/clicks", 2, "never-published"),
        BatchItem("bt-batch", "bt/clicks", 1, "another-id"),  # the sequence id of another
        BatchItem("bt-each", "bt/clicks", 1, good.id),  # not a batched workflow
        BatchItem("no-such", "bt/clicks", 1, good.id),
    ]
    result = h.batcher.start([*real, *bogus])
    assert sorted(result.failed) == sorted(bogus)
    assert batch_outputs(h) == [[0]]
