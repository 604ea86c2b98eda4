"""What the engine records for lifecycle events: live step starts, retries, messages,
suspensions and resumptions, on both journals, never twice."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest

from sdk import WorkflowContext, workflow
from sdk.clock import VirtualClock
from sdk.journal.memory import MemoryJournal
from sdk.journal.records import RUNNING, StepRecord, iso
from sdk.lifecycle import EventType, LifecycleEvent, execution_events, read_stream
from sdk.replay import SLOT
from tests.support import Harness, effect, eventually

Build = Callable[..., Harness]
RELEASE = threading.Event()


def slow_body() -> str:
    assert RELEASE.wait(30), "the test never released the step"
    return effect("slow", "done")


@workflow(id="live-steps")
async def slow_flow(ctx: WorkflowContext, _: None) -> str:
    out: str = await ctx.step.run("slow", slow_body)
    return out


def _shape(events: list[LifecycleEvent]) -> list[tuple[str, str | None]]:
    return [(e.event_type.value, e.step_key) for e in events]


def test_a_running_step_streams_its_start_before_it_ends(harness: Build) -> None:
    RELEASE.clear()
    h = harness(slow_flow, live_steps=True)
    handles: list[Any] = []  # the inline invoker runs the workflow in the caller's thread
    runner = threading.Thread(target=lambda: handles.append(h.client.invoke(slow_flow, None)))
    runner.start()
    execution_id = eventually(lambda: h.client.list_executions(), bool)[0].execution_id
    live = eventually(lambda: read_stream(h.journal, execution_id), lambda e: len(e) == 2)
    assert _shape(live) == [("workflow_start", None), ("step_start", "slow")]
    RELEASE.set()
    runner.join(timeout=30)
    handle = handles[0]
    assert handle.result(timeout=10) == "done"
    final = read_stream(h.journal, handle.id)
    assert final[:2] == live  # same ids, same sequence ids: the reader's place holds
    assert _shape(final)[2:] == [("step_finish", "slow"), ("workflow_finish", None)]
    assert f"slow{SLOT}{RUNNING}" in h.steps(handle.id)


def test_without_live_steps_a_step_s_start_is_known_at_its_end(harness: Build) -> None:
    RELEASE.set()
    h = harness(slow_flow)
    handle = h.client.invoke(slow_flow, None)
    assert handle.result(timeout=10) == "done"
    assert _shape(read_stream(h.journal, handle.id))[1:3] == [
        ("step_start", "slow"), ("step_finish", "slow"),
    ]  # fmt: skip
    assert list(h.steps(handle.id)) == ["slow"]  # one write per step


class _LosesMarkers(MemoryJournal):
    """A journal whose start-marker writes fail (throttled past botocore's retries)."""

    def record_step(self, execution_id: str, step: StepRecord, *, now: datetime) -> StepRecord:
        if step.key.endswith(f"{SLOT}{RUNNING}"):
            raise RuntimeError("ProvisionedThroughputExceededException")
        return super().record_step(execution_id, step, now=now)


def test_a_lost_start_marker_never_fails_or_repeats_the_step(clock: VirtualClock) -> None:
    RELEASE.set()
    h = Harness.build(_LosesMarkers(), clock, [slow_flow], live_steps=True)
    handle = h.client.invoke(slow_flow, None)
    assert handle.result(timeout=10) == "done"
    assert _shape(read_stream(h.journal, handle.id)) == [
        ("workflow_start", None), ("step_start", "slow"), ("step_finish", "slow"),
        ("workflow_finish", None),
    ]  # fmt: skip


FLAKY: dict[str, int] = {}


def flaky() -> str:
    FLAKY["n"] = FLAKY.get("n", 0) + 1
    if FLAKY["n"] < 3:
        raise ValueError(f"flaky {FLAKY['n']}")
    return "ok"


@workflow(id="retrying")
async def retrying(ctx: WorkflowContext, _: None) -> str:
    out: str = await ctx.step.run("call", flaky, max_retries=3, base_delay=0.01)
    return out


def test_retries_within_one_invocation_stream_with_their_errors_and_times(
    harness: Build,
) -> None:
    FLAKY.clear()
    h = harness(retrying)
    handle = h.client.invoke(retrying, None)
    assert handle.result(timeout=10) == "ok"
    events = read_stream(h.journal, handle.id)
    retries = [e for e in events if e.event_type is EventType.STEP_RETRY]
    assert [(e.attempt, e.error and e.error.message) for e in retries] == [
        (2, "flaky 1"), (3, "flaky 2"),
    ]  # fmt: skip
    assert all(e.data["error"]["type"] == "builtins:ValueError" for e in retries)
    finish = events[-2]
    assert (finish.event_type, finish.attempt) == (EventType.STEP_FINISH, 3)


@workflow(id="chatty")
async def chatty(ctx: WorkflowContext, n: int) -> int:
    await ctx.step.emit("hello", f"processing {n} rows", {"rows": n})
    await ctx.step.wait_for("pause", seconds=10)
    await ctx.step.emit("bye", "done")
    return n


def test_emitted_messages_stream_once_whatever_replays(harness: Build) -> None:
    h = harness(chatty, always_replay=True)
    handle = h.client.invoke(chatty, 7)
    h.advance(seconds=10)
    assert handle.result(timeout=10) == 7
    messages = [
        e for e in read_stream(h.journal, handle.id) if e.event_type is EventType.WORKFLOW_MESSAGE
    ]
    assert [(e.step_key, e.data["message"], e.data["attributes"]) for e in messages] == [
        ("hello", "processing 7 rows", {"rows": 7}), ("bye", "done", None),
    ]  # fmt: skip


@workflow(id="bad-emit")
async def bad_emit(ctx: WorkflowContext, _: None) -> None:
    await ctx.step.emit("oops", {"not": "text"})  # type: ignore[arg-type]


def test_an_emit_of_something_else_than_text_fails_naming_it(harness: Build) -> None:
    h = harness(bad_emit)
    handle = h.client.invoke(bad_emit, None)
    with pytest.raises(Exception, match="message must be text"):
        handle.result(timeout=10)


@workflow(id="napper")
async def napper(ctx: WorkflowContext, _: None) -> str:
    await ctx.step.wait_for("first", minutes=5)
    await ctx.step.wait_for("second", minutes=5)
    return "rested"


NAPPER = [
    ("workflow_start", None),
    ("step_start", "first"),
    ("workflow_suspend", None),
    ("workflow_resume", None),
    ("step_finish", "first"),
    ("step_start", "second"),
    ("workflow_suspend", None),
    ("workflow_resume", None),
    ("step_finish", "second"),
    ("workflow_finish", None),
]


def test_each_wait_suspends_and_resumes_the_workflow_and_no_event_ever_changes(
    harness: Build,
) -> None:
    h = harness(napper)
    handle = h.client.invoke(napper, None)
    seen = [read_stream(h.journal, handle.id)]
    h.advance(minutes=5)
    seen.append(read_stream(h.journal, handle.id))
    h.advance(minutes=5)
    assert handle.result(timeout=10) == "rested"
    final = read_stream(h.journal, handle.id)
    assert _shape(final) == NAPPER
    for earlier in seen:  # every read is a prefix of the final stream
        assert final[: len(earlier)] == earlier
    resume = final[3]
    assert resume.data["runtime_us"] == 5 * 60 * 1_000_000  # how long it was suspended
    assert len({e.id for e in final}) == len(final)


def test_a_lambda_dying_after_it_resumed_keeps_the_first_resumption_time(
    harness: Build,
) -> None:
    h = harness(napper)
    handle = h.client.invoke(napper, None)
    h.clock.advance(minutes=5)
    woken_at = h.clock.now()
    # An invocation takes the lease, then dies before it records anything.
    h.journal.acquire_lease(handle.id, owner="dead", now=woken_at, expires_at=woken_at)
    h.advance(minutes=1)  # its lease expired: the timer's (or the sweeper's) invocation runs
    h.advance(minutes=5)
    assert handle.result(timeout=10) == "rested"
    final = read_stream(h.journal, handle.id)
    assert _shape(final) == NAPPER
    resume = final[3]
    assert resume.created_at == iso(woken_at)  # the dead invocation's, not the retry's
    assert resume.data["runtime_us"] == 5 * 60 * 1_000_000


@workflow(id="waits-for-child")
async def waits_for_child(ctx: WorkflowContext, _: None) -> str:
    out: str = await ctx.step.invoke_and_wait("kid", napper, None)
    return out


def test_a_parent_awaiting_a_child_suspends_in_its_own_view_not_in_the_root_stream(
    harness: Build,
) -> None:
    h = harness(waits_for_child, napper)
    handle = h.client.invoke(waits_for_child, None)
    h.advance(minutes=5)
    h.advance(minutes=5)
    assert handle.result(timeout=10) == "rested"
    parent = h.journal.get_execution(handle.id)
    own = [e.event_type for e in execution_events(parent, h.steps(handle.id))]
    assert EventType.WORKFLOW_SUSPEND in own and EventType.WORKFLOW_RESUME in own
    root = read_stream(h.journal, handle.id)
    parents = [e.event_type for e in root if e.execution_id == handle.id]
    assert parents == [EventType.WORKFLOW_START, EventType.WORKFLOW_FINISH]
    assert sum(e.event_type is EventType.WORKFLOW_SUSPEND for e in root) == 2  # the child's


@workflow(id="little-helper")
async def little_helper(ctx: WorkflowContext, _: None) -> str:
    return "helped"


@workflow(id="every-kind")
async def every_kind(ctx: WorkflowContext, _: None) -> str:
    await ctx.step.invoke("fire", little_helper, None)
    await ctx.step.publish_event("announce", "kinds/out", {"n": 1})
    await ctx.step.wait_for("nap", seconds=5)
    answer = await ctx.step.wait_for_event("answer", "kinds/in")
    await ctx.step.uuid("id")
    return str(answer.data["ok"])


def test_every_wait_invoke_and_publish_is_a_step_with_its_start_and_end(
    harness: Build,
) -> None:
    h = harness(every_kind, little_helper)
    handle = h.client.invoke(every_kind, None)
    h.advance(seconds=5)
    h.client.publish_event("kinds/in", {"ok": True})
    assert handle.result(timeout=10) == "True"
    record = h.journal.get_execution(handle.id)
    own = execution_events(record, h.steps(handle.id))
    steps = [(e.event_type.value, e.step_key, e.step_type) for e in own if e.step_key]
    assert steps == [
        ("step_start", "fire", "invoke"), ("step_finish", "fire", "invoke"),
        ("step_start", "announce", "publish_event"), ("step_finish", "announce", "publish_event"),
        ("step_start", "nap", "wait"), ("step_finish", "nap", "wait"),
        ("step_start", "answer", "wait_for_event"), ("step_finish", "answer", "wait_for_event"),
        ("step_start", "id", "uuid"), ("step_finish", "id", "uuid"),
    ]  # fmt: skip
    # the root's stream also carries the child it started without waiting, after that step
    stream = read_stream(h.journal, handle.id)
    helper = [e.event_type.value for e in stream if e.workflow_id == "little-helper"]
    assert helper == ["workflow_start", "workflow_finish"]
    started = next(i for i, e in enumerate(stream) if e.workflow_id == "little-helper")
    assert _shape(stream).index(("step_start", "fire")) < started
