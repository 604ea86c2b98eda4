"""Attacks on batched handlers: batch inputs too large to store, a sweeper meeting the
event of a removed batched workflow, scattered sequence ids, claims outliving their
expired batch, wildcard batches over two topics, racing identical deliveries, lost
responses and DynamoDB's 100-item transactions (memory and DynamoDB journals alike)."""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest

from sdk import BatchEventPayload, EventPayload, WorkflowContext, workflow
from sdk.clock import VirtualClock
from sdk.errors import SerializationError
from sdk.events.batches import Batcher
from sdk.events.feeds import BatchItem
from sdk.events.log import log_for
from sdk.events.topics import NewEvent
from sdk.journal.base import Journal
from sdk.journal.dynamodb import DynamoJournal
from sdk.journal.memory import MemoryJournal
from sdk.journal.records import ExecutionStatus
from sdk.values import MemoryValueStore
from tests.support import CALLS, TABLE, Harness, QueueInvoker, effect

Build = Callable[..., Harness]
PAD = 150_000  # three events of this much data are past an execution input's 400 KB


@workflow(id="ba-batch", trigger_on_event="ba/clicks", batch_size=4, batch_timeout_seconds=10)
async def batched(ctx: WorkflowContext, payload: BatchEventPayload) -> list[int]:
    await ctx.step.run("count", effect, "batch", len(payload.events))
    return [event.data["n"] for event in payload.events]


@workflow(id="ba-each", trigger_on_event="ba/clicks")
async def each(ctx: WorkflowContext, payload: EventPayload) -> int:
    await ctx.step.run("one", effect, "each")
    return int(payload.data["n"])


@workflow(id="ba-now", trigger_on_event="ba/now", batch_size=3)
async def at_once(ctx: WorkflowContext, payload: BatchEventPayload) -> list[int]:
    return [event.data["n"] for event in payload.events]


@workflow(id="ba-wild", trigger_on_event="ba/w/*", batch_size=6, batch_timeout_seconds=5)
async def wild(ctx: WorkflowContext, payload: BatchEventPayload) -> list[list[Any]]:
    return [[event.topic, event.sequence_id, event.data["n"]] for event in payload.events]


@workflow(id="ba-big", trigger_on_event="ba/big", batch_size=98, batch_timeout_seconds=300)
async def big(ctx: WorkflowContext, payload: BatchEventPayload) -> int:
    return len(payload.events)


def outputs(h: Harness, workflow_id: str = "ba-batch") -> list[Any]:
    """The outputs of the finished batches of ``workflow_id``, sorted."""
    records = [r for r in h.client.list_executions() if r.workflow_id == workflow_id]
    finished = [r for r in records if r.status.finished]
    assert all(r.status is ExecutionStatus.COMPLETED for r in finished), finished
    return sorted(h.client.output_of(r) for r in finished)


def hold(h: Harness, workflow_id: str = "ba-batch") -> None:
    """No window ever fires for ``workflow_id``: the test delivers its items itself."""
    h.windows.rules[workflow_id] = (10**6, h.windows.rules[workflow_id][1])


# ------------------------------------------------------------------ large batch inputs


def test_events_too_large_for_one_batch_input_are_split_into_batches_that_fit(
    harness: Build,
) -> None:
    """Three events of 150 KB make a 450 KB input, past what the journal stores: the
    batch must not fail on every delivery (and end in the dead-letter queue)."""
    h = harness(batched)
    for n in range(3):
        h.client.publish_event("ba/clicks", {"n": n, "pad": "x" * PAD})
    h.advance(seconds=10)
    assert outputs(h) == [[0, 1], [2]]
    assert h.windows.pending("ba-batch") == []
    h.batcher.start(h.windows.deliveries[0])  # a redelivery starts nothing new
    assert outputs(h) == [[0, 1], [2]] and CALLS == {"batch": 2}


def test_a_cut_guessed_wrong_by_the_data_sizes_is_found_by_bisection(harness: Build) -> None:
    """Data appended as raw UTF-8 (not as ``encode_data`` writes it) grows sixfold when a
    batch input escapes it: the guess says all three fit, only two do."""
    h = harness(batched)
    hold(h)
    log = h.batcher.log
    appended = [
        log.append("ba/clicks", NewEvent(f"u{n}", f'{{"n":{n},"pad":"{"é" * 30_000}"}}'))
        for n in range(3)
    ]
    items = [BatchItem("ba-batch", "ba/clicks", p.sequence_id, p.id) for p in appended]
    assert len(h.batcher.start(items).started) == 2
    assert outputs(h) == [[0, 1], [2]]


def test_events_whose_data_is_in_the_value_store_are_split_by_their_full_size(
    dynamodb_client: Any, clock: VirtualClock
) -> None:
    """Event data past 256 KB lives in the value store; a batch input holds it whole."""
    values = MemoryValueStore(max_bytes=1_000_000)
    h = Harness.build(DynamoJournal(dynamodb_client, TABLE, values=values), clock, [batched])
    for n in range(4):  # 1.2 MB of data for a batch input of at most 1 MB
        h.client.publish_event("ba/clicks", {"n": n, "pad": "x" * 300_000})
    assert any(key.startswith("topics/") for key in values.objects)
    assert outputs(h) == [[0, 1, 2], [3]]


def test_an_event_too_large_for_any_batch_is_failed_and_spares_its_batch_mates(
    dynamodb_client: Any, clock: VirtualClock
) -> None:
    """An event appended by a publisher that did not check (an older version) whose data
    alone overflows a batch input: its message is failed (dead-letter queue), the others
    of its delivery are batched."""
    values = MemoryValueStore(max_bytes=600_000)
    h = Harness.build(DynamoJournal(dynamodb_client, TABLE, values=values), clock, [batched])
    hold(h)
    log = h.batcher.log
    huge = log.append("ba/clicks", NewEvent("huge", '{"n":9,"pad":"' + "x" * 599_900 + '"}'))
    small = [h.client.publish_event("ba/clicks", {"n": n}) for n in range(2)]
    items = [
        BatchItem("ba-batch", "ba/clicks", huge.sequence_id, "huge"),
        *h.windows.pending("ba-batch"),
    ]
    result = h.batcher.start(items)
    assert result.failed == [items[0]]
    assert outputs(h) == [[0, 1]] and len(small) == 2


def test_an_event_too_large_for_a_batch_of_its_batched_workflow_is_refused_at_publish(
    dynamodb_client: Any, clock: VirtualClock
) -> None:
    """As an immediate handler's too-large input is: nothing is written."""
    values = MemoryValueStore(max_bytes=600_000)
    h = Harness.build(DynamoJournal(dynamodb_client, TABLE, values=values), clock, [batched])
    with pytest.raises(SerializationError, match="ba-batch"):
        h.client.publish_event("ba/clicks", {"n": 9, "pad": "x" * 599_900})
    assert h.batcher.log.last_sequence("ba/clicks") == 0
    assert h.windows.pending("ba-batch") == []


@pytest.mark.xfail(
    strict=True,
    reason="known limit: the batcher reads every event of a delivery (up to batch_size, "
    "each up to the value store's maximum) before it cuts batches; 98 events of 10 MB "
    "exceed a 512 MB Lambda, which dies on every delivery until the dead-letter queue",
)
def test_the_batcher_reads_about_one_batch_input_of_event_data_before_claiming_it(
    clock: VirtualClock,
) -> None:
    h = Harness.build(MemoryJournal(), clock, [big])
    hold(h, "ba-big")
    for n in range(20):  # 4 MB of data, batch inputs of at most 400 KB: a batch each
        h.client.publish_event("ba/big", {"n": n, "pad": "z" * 200_000})
    log = h.batcher.log
    read_before_claiming: list[int] = []  # data bytes read, until the first claim

    def read(topic: str, *, after: int = 0, limit: int = 100) -> Any:
        page = log.read(topic, after=after, limit=limit)
        read_before_claiming.append(sum(len(event.data) for event in page))
        return page

    def claim_batch(*args: Any) -> Any:
        read_before_claiming.append(-(10**12))  # nothing read after this counts
        return log.claim_batch(*args)

    spy = _Spy(log, read)
    spy.claim_batch = claim_batch
    batcher = Batcher(h.app, h.journal, spy, QueueInvoker(), clock)  # type: ignore[arg-type]
    assert len(batcher.start(h.windows.pending("ba-big")).started) == 20
    first_claim = read_before_claiming.index(-(10**12))
    assert sum(read_before_claiming[:first_claim]) <= 2 * h.journal.max_value_bytes


# ------------------------------------------------------ pending events and the sweeper


def test_the_sweeper_queueing_again_what_the_publisher_queued_starts_nothing_twice(
    harness: Build, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The publisher queued event 2 and died before clearing it: the sweeper queues it
    again, it comes in a later batch of its own, and that batch starts nothing."""
    h = harness(batched, each)
    log = h.client.publisher.log
    clear = log.clear_pending
    published: list[Any] = []

    def dies_on_the_third(topic: str, event_id: str) -> None:
        if len(published) == 2:
            raise ConnectionError("the Lambda died here")
        clear(topic, event_id)

    monkeypatch.setattr(log, "clear_pending", dies_on_the_third)
    for n in range(4):
        published.append(h.client.publish_event("ba/clicks", {"n": n}))
    monkeypatch.undo()
    assert outputs(h) == [[0, 1, 2, 3]]
    h.advance(seconds=31)  # the sweeper queues event 2 again
    assert [i.sequence_id for i in h.windows.pending("ba-batch")] == [3]
    h.advance(seconds=10)
    assert h.windows.pending("ba-batch") == [] and len(h.windows.deliveries) == 2
    assert outputs(h) == [[0, 1, 2, 3]] and CALLS == {"batch": 1, "each": 4}



def test_a_pending_event_of_a_removed_batched_workflow_does_not_stall_the_sweeper(
    journal: Journal, clock: VirtualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Deployment 1 has ``ba-batch``; its publisher dies before queueing an event.
    Deployment 2 drops ``ba-batch`` and adds ``ba-now``, whose publisher dies likewise.
    The sweeper must still queue the second event, and give up the first."""
    first = Harness.build(journal, clock, [batched])
    monkeypatch.setattr(first.windows, "send", _dies)
    first.client.publish_event("ba/clicks", {"n": 1})
    clock.advance(seconds=1)

    second = Harness.build(journal, clock, [at_once])
    monkeypatch.setattr(second.windows, "send", _dies)
    second.client.publish_event("ba/now", {"n": 2})
    monkeypatch.undo()
    second.advance(seconds=31)  # past the pending grace of both: the sweeper's turn
    assert outputs(second, "ba-now") == [[2]]
    assert second.batcher.log.list_pending(clock.now() + _days(1)) == []


def _dies(items: Any) -> None:
    raise ConnectionError("the Lambda died here")


def _days(days: int) -> Any:
    from datetime import timedelta

    return timedelta(days=days)


# ------------------------------------------------------------ scattered sequence ids


def test_a_batch_of_far_apart_sequence_ids_reads_only_its_runs(clock: VirtualClock) -> None:
    """A redelivered old message batched with new ones on a busy topic: reading every
    event in between (here 1000, on AWS maybe millions) would time the batch out."""
    h = Harness.build(MemoryJournal(), clock, [batched])
    hold(h)
    h.client.publish_events("ba/clicks", [{"data": {"n": n}} for n in range(1000)])
    items = h.windows.pending("ba-batch")
    log = h.batcher.log
    read = log.read
    seen: list[int] = []

    def counting_read(topic: str, *, after: int = 0, limit: int = 100) -> Any:
        page = read(topic, after=after, limit=limit)
        seen.append(len(page))
        return page

    h.batcher.log = _Spy(log, counting_read)  # type: ignore[assignment]
    h.batcher.start([items[0], items[1], items[-1]])
    assert outputs(h) == [[0, 1, 999]]
    assert len(seen) <= 2 and sum(seen) == 3  # a run of two, and one alone


class _Spy:
    """The real log, its ``read`` (and what else a test sets) watched."""

    def __init__(self, log: Any, read: Any) -> None:
        self._log = log
        self.read = read
        self.claim_batch: Any = log.claim_batch

    def __getattr__(self, name: str) -> Any:
        return getattr(self._log, name)


# ------------------------------------------------------------------ time to live


def test_a_redelivery_after_its_batch_expired_starts_nothing_and_fails_nothing(
    dynamodb_client: Any, clock: VirtualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A message redriven from the dead-letter queue (kept 14 days) after its finished
    batch's execution item expired (retention of a day): the claims still say where its
    events went; the claim must neither start a second batch nor spin and fail."""
    import sdk.events.dynamodb_log as dynamodb_log

    sleeps: list[float] = []
    monkeypatch.setattr(dynamodb_log.time, "sleep", sleeps.append)
    h = Harness.build(DynamoJournal(dynamodb_client, TABLE), clock, [batched])
    hold(h)
    publish_n(h, 4)
    items = h.windows.pending("ba-batch")
    [execution_id] = h.batcher.start(items).started
    assert outputs(h) == [[0, 1, 2, 3]]
    dynamodb_client.delete_item(  # what time to live does
        TableName=TABLE, Key={"pk": {"S": execution_id}, "sk": {"S": "#execution"}}
    )
    result = h.batcher.start(items)
    assert result.started == [] and result.failed == []
    assert sleeps == []
    assert h.client.list_executions() == []  # no second batch of the same events


def publish_n(h: Harness, count: int, topic: str = "ba/clicks") -> list[Any]:
    return [h.client.publish_event(topic, {"n": n}) for n in range(count)]


# -------------------------------------------------------- attacks that held (coverage)


def test_a_wildcard_batch_over_two_topics_puts_each_event_in_one_batch(harness: Build) -> None:
    """Two topics share sequence ids 1, 2, 3 (and an event id): claims keep them apart."""
    h = harness(wild)
    hold(h, "ba-wild")
    for n in range(6):
        h.client.publish_event(f"ba/w/{'xy'[n % 2]}", {"n": n}, event_id=f"e{n // 2}")
    items = h.windows.pending("ba-wild")
    assert sorted(i.sequence_id for i in items) == [1, 1, 2, 2, 3, 3]
    rng = random.Random(7)
    copies = items * 3
    rng.shuffle(copies)
    while copies:
        size = rng.randint(1, 5)
        h.batcher.start(copies[:size])
        copies = copies[size:]
    batches = outputs(h, "ba-wild")
    got = Counter((topic, seq) for batch in batches for topic, seq, _ in batch)
    assert got == Counter((f"ba/w/{t}", s) for t in "xy" for s in (1, 2, 3))
    for batch in batches:  # in order: by topic, then by sequence id
        assert batch == sorted(batch)


def test_the_same_batch_delivered_three_times_at_once_starts_one_execution(
    dynamodb_client: Any, clock: VirtualClock, moto_race_window: None
) -> None:
    journal = DynamoJournal(dynamodb_client, TABLE)
    h = Harness.build(journal, clock, [batched])
    hold(h)
    publish_n(h, 4)
    items = h.windows.pending("ba-batch")
    invoker = QueueInvoker()
    barrier = threading.Barrier(3)
    errors: list[BaseException] = []

    def deliver(order: list[BatchItem]) -> None:
        log = log_for(journal, clock)
        assert log is not None
        batcher = Batcher(h.app, journal, log, invoker, clock)
        barrier.wait()
        try:
            batcher.start(order)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    orders = [items, items[::-1], items[1:] + items[:1]]
    threads = [threading.Thread(target=deliver, args=(order,)) for order in orders]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(set(invoker.started)) == 1
    assert len(h.client.list_executions()) == 1


def test_a_publish_whose_append_response_is_lost_still_feeds_both_handlers(
    dynamodb_client: Any, clock: VirtualClock
) -> None:
    from tests.faults import FaultInjector, FaultKind, skip_backoff

    h = Harness.build(DynamoJournal(dynamodb_client, TABLE), clock, [batched, each])
    injector = FaultInjector(
        random.Random(1), 1.0, [FaultKind.LOST_RESPONSE], faults_per_call=1,
        operations={"TransactWriteItems"},
    )  # fmt: skip
    injector.attach(dynamodb_client)
    with skip_backoff():
        published = publish_n(h, 4)
    injector.detach(dynamodb_client)
    assert [p.sequence_id for p in published] == [1, 2, 3, 4]
    assert not any(p.duplicate for p in published)
    assert outputs(h) == [[0, 1, 2, 3]]
    assert CALLS == {"batch": 1, "each": 4}


def test_a_batch_of_98_events_fits_one_transaction_of_100_items(
    dynamodb_client: Any, clock: VirtualClock
) -> None:
    """The execution, its input in an item of its own, and 98 claims."""
    h = Harness.build(DynamoJournal(dynamodb_client, TABLE), clock, [big])
    h.client.publish_events("ba/big", [{"data": {"n": n, "pad": "y" * 100}} for n in range(98)])
    assert outputs(h, "ba-big") == [98]
