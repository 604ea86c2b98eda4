"""Topic events end to end, on the in-memory journal and on DynamoDB in moto: triggers,
``publish_event`` steps and ``wait_for_event``."""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from sdk import WorkflowContext, workflow
from sdk.clock import VirtualClock
from sdk.errors import EventWaitTimeoutError
from sdk.events import InvalidEventError
from sdk.events.publisher import triggered_id
from sdk.journal.base import Journal
from sdk.journal.dynamodb import DynamoJournal
from sdk.journal.memory import MemoryJournal
from sdk.journal.records import ExecutionStatus
from sdk.journal.schema import table_definition
from sdk.payloads import EventPayload
from tests.support import CALLS, Harness, effect

Build = Callable[..., Harness]


@workflow(id="signup-handler", trigger_on_event="user/signup")
async def signup_handler(ctx: WorkflowContext, payload: EventPayload) -> dict[str, Any]:
    await ctx.step.run("welcome", effect, "welcome", payload.data["user_id"])
    return {"user_id": payload.data["user_id"], "seq": payload.sequence_id}


@workflow(id="signup-audit", trigger_on_event="user/*")
async def signup_audit(ctx: WorkflowContext, payload: EventPayload) -> str:
    await ctx.step.run("audit", effect, "audit", payload.topic)
    return payload.topic


@workflow(id="vip-only", trigger_on_event="user/signup", event_types=["vip"])
async def vip_only(ctx: WorkflowContext, payload: EventPayload) -> str:
    return str(payload.event_type)


@workflow(id="create-user")
async def create_user(ctx: WorkflowContext, user_id: str) -> int:
    published = await ctx.step.publish_event(
        "announce", "user/signup", {"user_id": user_id}, event_type="user_created"
    )
    return published.sequence_id


@workflow(id="approval")
async def approval(ctx: WorkflowContext, timeout: float | None) -> dict[str, Any]:
    await ctx.step.run("ask", effect, "ask")
    decision = await ctx.step.wait_for_event("decision", "approvals/o-1", timeout=timeout)
    return {"approved": decision.data["approved"], "seq": decision.sequence_id}


@workflow(id="two-waits")
async def two_waits(ctx: WorkflowContext) -> list[int]:
    first = await ctx.step.wait_for_event("first", "ticks")
    second = await ctx.step.wait_for_event("second", "ticks")
    return [first.data["n"], second.data["n"]]


def test_an_event_starts_each_subscribed_workflow_with_the_event(harness: Build) -> None:
    h = harness(signup_handler, signup_audit, vip_only)
    published = h.client.publish_event("user/signup", {"user_id": "u-1"}, "user_created")
    handler = h.client.handle(triggered_id("signup-handler", "user/signup", published.id))
    assert handler.result() == {"user_id": "u-1", "seq": 1}
    audit = h.client.handle(triggered_id("signup-audit", "user/signup", published.id))
    assert audit.result() == "user/signup"
    assert CALLS == {"welcome": 1, "audit": 1}
    # event_types is applied before any execution is created
    vip = triggered_id("vip-only", "user/signup", published.id)
    assert not h.client.list_executions(workflow_id="vip-only")
    h.client.publish_event("user/signup", {"user_id": "u-2"}, "vip")
    [vip] = h.client.list_executions(workflow_id="vip-only")
    assert h.client.handle(vip.execution_id).result() == "vip"


def test_an_event_delivered_three_times_starts_one_execution_per_handler(harness: Build) -> None:
    h = harness(signup_handler, signup_audit)
    results = [
        h.client.publish_event("user/signup", {"user_id": "u-1"}, event_id="evt-42")
        for _ in range(3)
    ]
    assert [(r.sequence_id, r.duplicate) for r in results] == [(1, False), (1, True), (1, True)]
    assert len(h.client.list_executions(workflow_id="signup-handler")) == 1
    assert len(h.client.list_executions(workflow_id="signup-audit")) == 1
    assert CALLS == {"welcome": 1, "audit": 1}


def test_bad_events_are_refused_and_nothing_is_written(harness: Build) -> None:
    h = harness(signup_handler)
    with pytest.raises(InvalidEventError, match="JSON object"):
        h.client.publish_events("user/signup", [{"data": {"user_id": "ok"}}, {"data": [1]}])
    with pytest.raises(InvalidEventError, match="topic"):
        h.client.publish_event("user signup", {"user_id": "u"})
    assert h.client.publisher.log.last_sequence("user/signup") == 0
    assert not h.client.list_executions(workflow_id="signup-handler")


def test_a_step_publishes_once_however_often_it_replays(harness: Build) -> None:
    h = harness(create_user, signup_handler, always_replay=True)
    assert h.client.invoke(create_user, "u-7").result() == 1
    assert h.client.publisher.log.last_sequence("user/signup") == 1
    [handler] = h.client.list_executions(workflow_id="signup-handler")
    assert h.client.handle(handler.execution_id).result() == {"user_id": "u-7", "seq": 1}
    assert CALLS == {"welcome": 1}


def test_a_wait_takes_an_event_published_before_it_began(harness: Build) -> None:
    h = harness(approval)
    # the execution starts, its first step runs, then the event comes before the wait
    handle = h.client.invoke(approval, None)
    assert handle.status() is ExecutionStatus.SUSPENDED
    h.client.publish_event("approvals/o-1", {"approved": True})
    assert handle.result() == {"approved": True, "seq": 1}


def test_an_event_published_before_the_execution_started_is_not_taken(harness: Build) -> None:
    h = harness(approval)
    h.client.publish_event("approvals/o-1", {"approved": False})
    h.advance(seconds=1)
    handle = h.client.invoke(approval, None)
    assert handle.status() is ExecutionStatus.SUSPENDED
    h.client.publish_event("approvals/o-1", {"approved": True})
    assert handle.result() == {"approved": True, "seq": 2}


def test_two_waits_on_one_topic_take_two_events_in_order(harness: Build) -> None:
    h = harness(two_waits)
    handle = h.client.invoke(two_waits)
    h.client.publish_events("ticks", [{"data": {"n": 1}}, {"data": {"n": 2}}])
    assert handle.result() == [1, 2]


def test_a_wait_times_out_with_an_error_naming_key_and_topic(harness: Build) -> None:
    h = harness(approval)
    handle = h.client.invoke(approval, 60)
    h.advance(seconds=30)
    assert handle.status() is ExecutionStatus.SUSPENDED
    h.advance(seconds=40)
    with pytest.raises(EventWaitTimeoutError, match="'decision'.*'approvals/o-1'"):
        handle.result()
    # an event after the timeout changes nothing
    h.client.publish_event("approvals/o-1", {"approved": True})
    assert h.client.get_execution(handle.id).status is ExecutionStatus.FAILED


def test_a_timeout_raises_inside_the_workflow_where_it_can_be_caught(harness: Build) -> None:
    @workflow(id="fallback")
    async def fallback(ctx: WorkflowContext) -> str:
        try:
            await ctx.step.wait_for_event("reply", "replies", timeout=10)
        except EventWaitTimeoutError:
            return "timed out"
        return "replied"

    h = harness(fallback)
    handle = h.client.invoke(fallback)
    h.advance(seconds=15)
    assert handle.result() == "timed out"


def test_an_event_before_the_deadline_wins_even_if_the_timer_fires_first(harness: Build) -> None:
    h = harness(approval)
    handle = h.client.invoke(approval, 60)
    h.advance(seconds=59)
    # published just before the deadline by a publisher that dies before waking anyone
    log = h.client.publisher.log
    from sdk.events.topics import NewEvent

    log.append("approvals/o-1", NewEvent.of({"approved": True}, max_bytes=1000))
    h.advance(seconds=10)
    assert handle.result() == {"approved": True, "seq": 1}


def test_a_publisher_that_dies_before_waking_leaves_the_job_to_the_sweeper(harness: Build) -> None:
    h = harness(approval)
    handle = h.client.invoke(approval, None)
    from sdk.events.topics import NewEvent

    h.client.publisher.log.append("approvals/o-1", NewEvent.of({"approved": True}, max_bytes=100))
    assert handle.status() is ExecutionStatus.SUSPENDED
    assert h.client.publisher.sweep(h.clock.now()) == 0  # not yet due
    h.advance(seconds=29)
    assert handle.status() is ExecutionStatus.SUSPENDED
    h.advance(seconds=2)  # the sweeper's turn
    assert handle.result() == {"approved": True, "seq": 1}
    assert h.client.publisher.sweep(h.clock.now()) == 0  # done once


@pytest.mark.parametrize("repetition", range(20))
def test_a_racing_waiter_and_publisher_never_miss_each_other(
    harness: Build, repetition: int
) -> None:
    h = harness(approval)
    barrier = threading.Barrier(2)
    handle_box: list[Any] = []

    def waiter() -> None:
        barrier.wait()
        handle_box.append(h.client.invoke(approval, None))

    def publisher() -> None:
        barrier.wait()
        h.client.publish_event("approvals/o-1", {"approved": True})

    threads = [threading.Thread(target=waiter), threading.Thread(target=publisher)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    [handle] = handle_box
    record = h.client.get_execution(handle.id)
    published_after_start = h.client.publisher.log.read("approvals/o-1")[0].created_at >= (
        record.created_at
    )
    if published_after_start:
        assert handle.result() == {"approved": True, "seq": 1}
    else:
        assert record.status is ExecutionStatus.SUSPENDED


@workflow(id="await-reply")
async def await_reply(ctx: WorkflowContext, args: dict[str, Any]) -> int:
    event = await ctx.step.wait_for_event("reply", args["topic"], timeout=args["timeout"])
    return event.sequence_id


REPETITIONS = 200


def _yield(times: int) -> None:
    for _ in range(times):
        time.sleep(0)


def _fresh(journal: Journal, i: int) -> Journal:
    """A new empty journal of the same kind (a new table on moto)."""
    if isinstance(journal, DynamoJournal):
        journal.client.create_table(**table_definition(f"race-{i}"))
        return DynamoJournal(journal.client, f"race-{i}")
    return MemoryJournal()


def _race_once(h: Harness, i: int) -> str:
    """One race of a publish and the clock passing the deadline; the outcome, checked."""
    topic = f"replies/{i}"
    handle = h.client.invoke(await_reply, {"topic": topic, "timeout": 10})
    deadline = h.steps(handle.id)["reply\x1fwaiting"].started_at + timedelta(seconds=10)
    barrier = threading.Barrier(2)
    rng = random.Random(i)
    # each thread yields (sleep(0): a yield, not a wait) a varying number of times at each
    # point, so the publish lands anywhere between the clock's moves
    pauses = [rng.randrange(0, 8) for _ in range(4)]

    def publish() -> None:
        barrier.wait()
        _yield(pauses[0])
        h.client.publish_event(topic, {"i": i})

    def pass_deadline() -> None:
        barrier.wait()
        for pause, seconds in zip(pauses[1:], (9.5, 1, 2), strict=True):
            _yield(pause)
            h.advance(seconds=seconds)  # before, then past the deadline, then the grace

    threads = [threading.Thread(target=publish), threading.Thread(target=pass_deadline)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    [event] = h.client.publisher.log.read(topic)
    record = h.client.get_execution(handle.id)
    if record.status is ExecutionStatus.COMPLETED:
        assert handle.result() == 1 and event.created_at <= deadline
        return "event"
    assert record.status is ExecutionStatus.FAILED, record.status
    seen = json.loads(h.steps(handle.id)["reply"].output or "{}")["seen"]
    assert event.created_at > deadline or event.sequence_id > seen
    return "timeout"


def test_a_publish_racing_the_timeout_gives_exactly_one_consistent_outcome(
    journal: Journal, clock: VirtualClock
) -> None:
    """200 times: a waiter with a 10 s timeout; a publish and the clock passing the
    deadline race. The wait gets the event or times out, never both, never neither; it
    gets it only if it was created before the deadline, and times out only if it was
    created after the deadline or was not in the topic yet when the timeout was decided."""
    outcomes = [
        _race_once(Harness.build(_fresh(journal, i), clock, [await_reply]), i)
        for i in range(REPETITIONS)
    ]
    assert len(outcomes) == REPETITIONS


def test_every_item_an_event_writes_expires(dynamodb_client: Any, clock: VirtualClock) -> None:
    """Topic events, their ids, waiters and the executions they start carry the TTL."""
    from tests.conftest import TABLE

    h = Harness.build(DynamoJournal(dynamodb_client, TABLE), clock, [signup_handler, approval])
    h.client.invoke(approval, None)  # a waiter on approvals/o-1
    h.client.publish_event("user/signup", {"user_id": "u-1"})
    h.client.publish_event("approvals/o-1", {"approved": True})
    items = dynamodb_client.scan(TableName=TABLE)["Items"]
    assert any(i["pk"]["S"].startswith("topic#") for i in items)
    assert [i["sk"]["S"] for i in items if "expires_at" not in i] == []
