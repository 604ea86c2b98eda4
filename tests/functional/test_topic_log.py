"""The topic log, on memory and on DynamoDB in moto: gap-free sequence ids, idempotent ids."""

from __future__ import annotations

import random
import threading
from typing import Any

import pytest

from sdk.clock import VirtualClock
from sdk.events import InvalidEventError, MemoryTopicLog, NewEvent, Published, TopicLog
from sdk.events.dynamodb_log import DynamoTopicLog
from sdk.events.topics import INLINE_DATA_MAX_BYTES
from sdk.values import MemoryValueStore
from tests.conftest import TABLE

MAX = 1024 * 1024


def publish(log: TopicLog, topic: str, *events: NewEvent) -> list[Published]:
    return [log.append(topic, e) for e in events]


def event(data: dict[str, Any], event_id: str | None = None, kind: str | None = None) -> NewEvent:
    return NewEvent.of(data, kind, event_id, max_bytes=MAX)


@pytest.fixture(params=["memory", "dynamodb"])
def log(request: pytest.FixtureRequest) -> TopicLog:
    if request.param == "memory":
        return MemoryTopicLog(clock=VirtualClock())
    client = request.getfixturevalue("dynamodb_client")
    return DynamoTopicLog(client, TABLE, values=MemoryValueStore(), clock=VirtualClock())


def test_events_get_increasing_sequence_ids_per_topic(log: TopicLog) -> None:
    first = publish(log, "user/signup", event({"n": 1}), event({"n": 2}))
    other = publish(log, "user.signup", event({"n": 3}))
    assert [p.sequence_id for p in first] == [1, 2]
    assert [p.sequence_id for p in other] == [1]  # the two spellings are two topics
    read = log.read("user/signup")
    assert [(e.sequence_id, e.payload().data) for e in read] == [(1, {"n": 1}), (2, {"n": 2})]
    assert log.read("user/signup", after=1)[0].payload().data == {"n": 2}
    assert log.last_sequence("user/signup") == 2
    assert log.last_sequence("nobody/listens") == 0
    assert log.topics() == {"user.signup": 1, "user/signup": 2}


def test_an_event_keeps_its_id_type_data_and_time(log: TopicLog) -> None:
    [published] = publish(log, "orders/created", event({"id": "o-1"}, "evt-1", "created"))
    [stored] = log.read("orders/created")
    payload = stored.payload()
    assert (payload.id, payload.sequence_id, payload.topic) == ("evt-1", 1, "orders/created")
    assert (payload.event_type, payload.data) == ("created", {"id": "o-1"})
    assert payload.created_at is not None and payload.created_at.tzinfo is not None
    assert published.id == "evt-1" and not published.duplicate


def test_publishing_an_id_twice_returns_the_original_sequence_id(log: TopicLog) -> None:
    publish(log, "t", event({"n": 1}, "a"), event({"n": 2}, "b"))
    [again] = publish(log, "t", event({"n": 99}, "a"))
    assert (again.sequence_id, again.duplicate) == (1, True)
    assert [e.payload().data for e in log.read("t")] == [{"n": 1}, {"n": 2}]


@pytest.mark.parametrize(
    ("topic", "data", "problem"),
    [
        ("", {}, "topic"),
        ("user signup", {}, "topic"),
        ("*/created", {}, "topic"),
        ("x" * 129, {}, "topic"),
        ("t", [1, 2], "JSON object"),
        ("t", {"when": object()}, "not JSON"),
        ("t", {"n": float("nan")}, "not JSON"),
    ],
)
def test_bad_input_is_refused_with_its_reason_and_nothing_is_written(
    log: TopicLog, topic: str, data: Any, problem: str
) -> None:
    with pytest.raises(InvalidEventError, match=problem):
        log.append(topic, NewEvent.of(data, max_bytes=MAX))
    assert log.last_sequence("t") == 0


def test_racing_publishers_leave_no_gap_and_no_duplicate(log: TopicLog) -> None:
    barrier = threading.Barrier(8)
    published: list[int] = []

    def publisher(n: int) -> None:
        barrier.wait()
        for i in range(10):
            [p] = publish(log, "race", event({"n": n, "i": i}))
            published.append(p.sequence_id)

    threads = [threading.Thread(target=publisher, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(published) == list(range(1, 81))
    assert [e.sequence_id for e in log.read("race", limit=1000)] == list(range(1, 81))


def test_data_past_a_bus_entry_goes_to_the_value_store(dynamodb_client: Any) -> None:
    values = MemoryValueStore()
    log = DynamoTopicLog(dynamodb_client, TABLE, values=values)
    big = {"blob": "x" * (INLINE_DATA_MAX_BYTES + 10)}
    publish(log, "big", NewEvent.of(big, max_bytes=values.max_bytes))
    assert len(values.objects) == 1
    assert log.read("big")[0].payload().data == big


def test_without_a_value_store_large_data_is_refused(dynamodb_client: Any) -> None:
    log = DynamoTopicLog(dynamodb_client, TABLE)
    big = NewEvent.of({"blob": "x" * INLINE_DATA_MAX_BYTES}, max_bytes=MAX)
    with pytest.raises(InvalidEventError, match="bytes; the limit is 262144"):
        publish(log, "big", big)
    assert log.last_sequence("big") == 0


def test_a_publish_whose_response_was_lost_is_applied_once(dynamodb_client: Any) -> None:
    from tests.faults import FaultInjector, FaultKind, skip_backoff

    log = DynamoTopicLog(dynamodb_client, TABLE)
    lost = FaultInjector(
        random.Random(7), 1.0, [FaultKind.LOST_RESPONSE], operations={"TransactWriteItems"},
        faults_per_call=1,
    )
    lost.attach(dynamodb_client)
    with skip_backoff():
        results = [publish(log, "lost", event({"n": n}, f"e{n}"))[0] for n in range(5)]
    assert len(lost.log) == 5  # every publish had its first response lost
    assert [(r.sequence_id, r.duplicate) for r in results] == [(n + 1, False) for n in range(5)]
    assert [e.id for e in log.read("lost")] == [f"e{n}" for n in range(5)]


def test_throttled_publishes_are_retried_by_botocore(dynamodb_client: Any) -> None:
    from tests.faults import FaultInjector, FaultKind, skip_backoff

    log = DynamoTopicLog(dynamodb_client, TABLE)
    FaultInjector(random.Random(3), 0.5, [FaultKind.THROTTLE], faults_per_call=2).attach(
        dynamodb_client
    )
    with skip_backoff():
        for n in range(20):
            publish(log, "busy", event({"n": n}))
    assert [e.sequence_id for e in log.read("busy")] == list(range(1, 21))
