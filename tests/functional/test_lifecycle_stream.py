"""The lifecycle stream of the streaming page's ``data_pipeline``, on both journals."""

from __future__ import annotations

from collections.abc import Callable

from examples.pipelines import child_pipeline, data_pipeline
from sdk import WorkflowContext, workflow
from sdk.lifecycle import LifecycleEvent, read_stream
from tests.functional.test_streaming_example import PAGE_000 as STREAMING_PAGE
from tests.support import Harness, effect

Build = Callable[..., Harness]


def extract_data(source: dict[str, str]) -> list[dict[str, int]]:
    return effect("extract", [{"id": n, "amount": n * 10} for n in (1, 2, 3)])


def load_data(rows: list[dict[str, int]]) -> int:
    return effect("load", len(rows))


# Seed 000's list, with the child's steps where it says "< events for steps ... >".
PAGE_000 = STREAMING_PAGE


def _shape(events: list[LifecycleEvent]) -> list[tuple[str, str, str | None]]:
    return [
        (e.event_type.value, e.data["_metadata"]["workflow_id"], e.data.get("step_key"))
        for e in events
    ]


def _run(h: Harness) -> str:
    handle = h.client.invoke(data_pipeline, {"source": "database", "table": "orders"})
    assert handle.result(timeout=5) == 3
    return handle.id


def test_the_data_pipeline_streams_the_events_of_page_000_in_order(harness: Build) -> None:
    h = harness(data_pipeline, child_pipeline)
    root = _run(h)
    events = read_stream(h.journal, root)
    assert _shape(events) == PAGE_000
    assert [e.sequence_id for e in events] == list(range(1, len(PAGE_000) + 1))
    assert {e.data["_metadata"]["root_execution_id"] for e in events} == {root}
    child = events[5].data["_metadata"]
    assert child["parent_execution_id"] == root != child["execution_id"]


def test_a_replayed_run_gives_the_same_stream(harness: Build) -> None:
    h = harness(data_pipeline, child_pipeline, always_replay=True)
    root = _run(h)
    events = read_stream(h.journal, root)
    assert _shape(events) == PAGE_000
    assert len({e.id for e in events}) == len(events)
    assert read_stream(h.journal, root) == events  # stable: same ids, same sequence ids


def test_a_reader_resuming_after_every_third_event_sees_each_once(harness: Build) -> None:
    h = harness(data_pipeline, child_pipeline)
    root = _run(h)
    seen: list[LifecycleEvent] = []
    cursor: int | None = None
    while not seen or not (seen[-1].event_type.terminal and seen[-1].execution_id == root):
        batch = read_stream(h.journal, root, after=cursor)[:3]  # disconnects after three
        assert batch, "the stream ended before the root's terminal event"
        seen.extend(batch)
        cursor = batch[-1].sequence_id
    assert seen == read_stream(h.journal, root)
    assert _shape(seen) == PAGE_000


@workflow(id="slow_pipeline")
async def slow_pipeline(ctx: WorkflowContext, source: dict[str, str]) -> int:
    data = await ctx.step.run("extract", extract_data, source)
    await ctx.step.wait_for("cool-off", minutes=5)
    final = await ctx.step.invoke_and_wait("child_pipeline", child_pipeline, data)
    return await ctx.step.run("load", load_data, final)


def test_a_live_reader_resumes_across_a_suspension_without_gaps(harness: Build) -> None:
    h = harness(slow_pipeline, child_pipeline)
    root = h.client.invoke(slow_pipeline, {"source": "db"}).id
    first = read_stream(h.journal, root)
    assert _shape(first) == [
        ("workflow_start", "slow_pipeline", None),
        ("step_start", "slow_pipeline", "extract"),
        ("step_finish", "slow_pipeline", "extract"),
        ("step_start", "slow_pipeline", "cool-off"),
        ("workflow_suspend", "slow_pipeline", None),
    ]
    h.advance(minutes=5)
    rest = read_stream(h.journal, root, after=first[-1].sequence_id)
    assert first + rest == read_stream(h.journal, root)
    assert _shape(rest)[:2] == [
        ("workflow_resume", "slow_pipeline", None),
        ("step_finish", "slow_pipeline", "cool-off"),
    ]
    assert rest[1].data["runtime_us"] == 5 * 60 * 1_000_000
    assert _shape(rest)[-1] == ("workflow_finish", "slow_pipeline", None)
