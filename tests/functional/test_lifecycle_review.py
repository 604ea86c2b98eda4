"""A hostile review of lifecycle events: bus, topics, stream, HTTP routes, CloudEvents.

Each test is one attack on a promise of ``docs/events.md`` / ``docs/lifecycle.md``.
"""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from handlers.api_input import BadRequest
from handlers.api_lifecycle import parse_after
from sdk import TerminalError, WorkflowContext, serde, workflow
from sdk.failures import ErrorInfo
from sdk.journal.records import ExecutionRecord, ExecutionStatus
from sdk.lifecycle.bus import MAX_ENTRIES, MAX_REQUEST_BYTES, BusLevel, started_by_lifecycle_event
from sdk.lifecycle.cloudevents import read_structured, structured
from sdk.lifecycle.model import EventType, LifecycleEvent
from sdk.payloads import BatchEventPayload, EventPayload
from tests.functional.test_lifecycle_bus import Bus, _bus, _Refusing, process_payment, refund
from tests.support import CALLS, effect

# --- the bus and the topics --------------------------------------------------------------


def test_a_bus_outage_does_not_lose_the_compensation(dynamodb_client: Any, clock: Any) -> None:
    """EventBridge refuses everything until the batch goes to the dead-letter queue: the
    lifecycle topic (another service) must still start the compensation."""
    never = _Refusing(boto3.client("events", region_name="us-east-1"), 10**6)
    bus = _bus(dynamodb_client, clock, BusLevel.WORKFLOW, events_client=never)
    bus.mapping.max_retries = 2
    failed = bus.harness.client.invoke(process_payment, 500)
    with pytest.raises(TerminalError):
        failed.result(timeout=5)
    bus.drain()
    assert bus.mapping.given_up >= 1  # the bus entries are gone to the DLQ ...
    # ... but the compensation is not the bus's to lose
    assert len(bus.harness.client.list_executions(workflow_id="refund")) == 1
    assert CALLS["refund"] == 1


def test_redelivered_batches_after_partial_failures_carry_the_same_ids(
    dynamodb_client: Any, clock: Any
) -> None:
    """A record retried after a refusal that outlasted the rounds sends its accepted entries
    again: at-least-once, but always with the same CloudEvent id (consumers dedup on it),
    and the compensation still starts once."""
    flaky = _Refusing(boto3.client("events", region_name="us-east-1"), times=3)
    bus = _bus(dynamodb_client, clock, BusLevel.ALL, events_client=flaky)
    failed = bus.harness.client.invoke(process_payment, 500)
    with pytest.raises(TerminalError):
        failed.result(timeout=5)
    bus.drain()
    got = [e["detail"] for e in bus.received()]
    ids = {d["id"] for d in got}
    mine = [d for d in got if d["subject"] == failed.id]
    assert {d["type"].rsplit(".", 2)[-2] for d in mine} >= {"started", "faulted"}
    for event_id in ids:  # any duplicate is the very same document
        same = [json.dumps(d, sort_keys=True) for d in got if d["id"] == event_id]
        assert len(set(same)) == 1
    assert CALLS["refund"] == 1


def test_a_publisher_killed_mid_batch_starts_the_compensation_once(
    dynamodb_client: Any, clock: Any
) -> None:
    bus = _bus(dynamodb_client, clock, BusLevel.WORKFLOW)
    deliver = bus.mapping.deliver
    calls = {"n": 0}

    def killed_once(event: dict[str, Any]) -> tuple[bool, Any]:
        calls["n"] += 1
        ok, payload = deliver(event)  # did all its work ...
        if calls["n"] == 1:
            return False, {"errorMessage": "Runtime exited"}  # ... then died before answering
        return ok, payload

    bus.mapping.deliver = killed_once
    failed = bus.harness.client.invoke(process_payment, 700)
    with pytest.raises(TerminalError):
        failed.result(timeout=5)
    bus.drain()
    bus.drain()
    assert calls["n"] >= 2
    assert len(bus.harness.client.list_executions(workflow_id="refund")) == 1
    assert CALLS["refund"] == 1


@workflow(id="fragile")
async def fragile(ctx: WorkflowContext, n: int) -> None:
    effect("fragile")
    raise TerminalError(f"fragile {n} broke")


@workflow(id="retry-fragile", trigger_on_event="lifecycle/fragile", event_types=["workflow_fail"])
async def retry_fragile(ctx: WorkflowContext, event: EventPayload) -> None:
    effect("retry-fragile")
    # the compensation tries again, as a child (fire and forget)
    await ctx.step.invoke("again", fragile, 1)


def test_a_compensation_retrying_the_workflow_as_a_child_does_not_loop(
    dynamodb_client: Any, clock: Any
) -> None:
    """``fragile`` fails -> ``retry-fragile`` starts it again as its child -> that child fails:
    its failure must not start another compensation (the child descends from one)."""
    bus = _bus(dynamodb_client, clock, BusLevel.WORKFLOW, workflows=[fragile, retry_fragile])
    failed = bus.harness.client.invoke(fragile, 0)
    with pytest.raises(TerminalError):
        failed.result(timeout=5)
    for _ in range(6):  # bounded: a loop would never drain
        bus.mapping.drain(rounds=20)
        bus.harness.sweeper.sweep()
    assert CALLS["retry-fragile"] == 1
    assert CALLS["fragile"] == 2


def _record(payload: Any) -> ExecutionRecord:
    from datetime import UTC, datetime

    return ExecutionRecord(
        "x", "w", ExecutionStatus.FAILED, datetime.now(UTC), input=serde.dumps(payload, what="x")
    )


def test_a_batched_compensation_is_known_as_started_by_lifecycle_events() -> None:
    """Loop protection reads the input's ``topic``; a batch's input is ``{"events": [...]}``."""
    one = EventPayload("e-1", 1, "lifecycle/ping", {"execution_id": "p"}, "workflow_fail")
    assert started_by_lifecycle_event(_record(one))
    assert started_by_lifecycle_event(_record(BatchEventPayload(events=[one])))


# --- EventBridge limits and CloudEvents --------------------------------------------------


class _StrictEventBridge:
    """Enforces what EventBridge enforces on PutEvents, then forwards."""

    def __init__(self, real: Any) -> None:
        self.real, self.requests = real, 0

    def put_events(self, Entries: list[dict[str, Any]]) -> dict[str, Any]:  # noqa: N803
        self.requests += 1
        assert 1 <= len(Entries) <= MAX_ENTRIES, len(Entries)
        size = sum(
            len(e["Source"].encode()) + len(e["DetailType"].encode()) + len(e["Detail"].encode())
            for e in Entries
        )
        assert size <= MAX_REQUEST_BYTES, size
        for entry in Entries:
            read_structured(entry["Detail"])  # always a valid CloudEvent
        response: dict[str, Any] = self.real.put_events(Entries=Entries)
        return response


def _long_error(n: int) -> str:
    return "é☃😀" * n


@workflow(id="w-" + "x" * 62)
async def long_named(ctx: WorkflowContext, n: int) -> None:
    for i in range(n):
        await ctx.step.run(f"étape-☃-{i}-" + "😀" * 20, lambda i=i: i)
    await ctx.step.run("boom", _boom)


def _boom() -> None:
    raise TerminalError(_long_error(20_000))


def test_many_steps_with_huge_unicode_errors_stay_within_putevents_limits(
    dynamodb_client: Any, clock: Any
) -> None:
    strict = _StrictEventBridge(boto3.client("events", region_name="us-east-1"))
    bus = _bus(dynamodb_client, clock, BusLevel.ALL, events_client=strict,
               workflows=[long_named])  # fmt: skip
    failed = bus.harness.client.invoke(long_named, 25)
    with pytest.raises(TerminalError):
        failed.result(timeout=5)
    bus.drain()
    assert bus.mapping.given_up == 0
    got = [read_structured(json.dumps(e["detail"])) for e in bus.received()]
    assert len({c.get_id() for c in got}) == len(got)
    faulted = [c for c in got if c.get_type().endswith("workflow.faulted.v1")]
    assert len(faulted) == 1
    keys = {c.get_data()["taskReference"] for c in got if "taskReference" in c.get_data()}  # type: ignore[operator,index]
    assert "étape-☃-0-" + "😀" * 20 in keys


def test_a_cloudevent_of_every_odd_shape_validates() -> None:
    error = ErrorInfo("mod:Err", "\x00\ud800" + _long_error(4000), "tb")
    for kind in (EventType.STEP_ERROR, EventType.WORKFLOW_FAIL, EventType.STEP_RETRY):
        event = LifecycleEvent(
            id="id-" + "z" * 300, event_type=kind, created_at="2026-01-01T00:00:00.000000Z",
            execution_id="e" * 200, workflow_id="wf:" + "q" * 200,
            parent_execution_id="p" * 200, root_execution_id="r" * 200,
            step_key="clé\x1f☃" if kind is not EventType.WORKFLOW_FAIL else None,
            step_type="run", attempt=2, runtime_us=5, error=error,
        )  # fmt: skip
        back = read_structured(structured(event))
        assert back.get_id() == event.id and back.get_subject() == event.execution_id


# --- the HTTP routes ----------------------------------------------------------------------


@pytest.mark.parametrize("raw", ["²", "١٢٣", "-1", "1.5", " 1", "1e3", "0x10", "9" * 19])
def test_after_that_is_not_an_ascii_sequence_id_is_a_400(raw: str) -> None:
    with pytest.raises(BadRequest):
        parse_after(raw)


# --- keep flake8's unused-import check quiet in edits below ----------------------------
_ = (Bus, refund)


# --- step events at level ALL -------------------------------------------------------------


@workflow(id="naps-last")
async def naps_last(ctx: WorkflowContext, _: None) -> str:
    await ctx.step.run("before", lambda: 1)
    await ctx.step.wait_for("nap", minutes=5)
    return "rested"


def test_a_wait_that_is_the_last_step_gets_its_task_completed_on_the_bus(
    dynamodb_client: Any, clock: Any
) -> None:
    """A wait's end is derived when the journal shows the workflow went past it; as the
    last step that is only the execution item's completion, which reveals workflow events
    only: the step event is lost if the publisher read the wait's record before it ended."""
    bus = _bus(dynamodb_client, clock, BusLevel.ALL, workflows=[naps_last])
    handle = bus.harness.client.invoke(naps_last, None)
    bus.drain()  # the wait's record is published while the execution sleeps
    bus.harness.advance(minutes=6)
    assert handle.result(timeout=5) == "rested"
    bus.drain()
    got = [e["detail"] for e in bus.received()]
    nap = [d["type"].rsplit(".", 2)[-2] for d in got if d["data"].get("taskReference") == "nap"]
    assert sorted(nap) == ["completed", "started"]


def test_the_routes_answer_400_and_404_clearly() -> None:
    from handlers.api import make_resolver
    from local_emulator.http_api import function_url_event
    from sdk import App, Client, Engine, InlineInvoker, MemoryJournal
    from sdk.timers import ManualTimers
    from tests.support import FakeLambdaContext

    app, journal = App([naps_last]), MemoryJournal()
    client = Client(app, journal, InlineInvoker(Engine(app, journal, timers=ManualTimers())))
    live = client.invoke(naps_last, None).id

    def status(target: str, headers: dict[str, str] | None = None) -> tuple[int, str]:
        event = function_url_event("GET", target, headers or {}, b"")
        response = make_resolver(client).resolve(event, FakeLambdaContext())
        return response["statusCode"], response.get("body") or ""

    for target, headers in [
        (f"/executions/{live}/events?after=%C2%B2", None),
        (f"/executions/{live}/events?wait=nan", None),
        (f"/executions/{live}/events?wait=-1", None),
        (f"/executions/{live}/events?wait=21", None),
        (f"/executions/{live}/events?bogus=1", None),
        (f"/executions/{live}/events/stream", {"Last-Event-ID": "abc"}),
        (f"/executions/{live}/events/stream?wait=0", {"Last-Event-ID": "²"}),
    ]:
        code, body = status(target, headers)
        assert code == 400, (target, code, body)
    for target in ["/executions/nope/events?wait=5", "/executions/nope/events/stream?wait=5",
                   "/executions/" + "x" * 300 + "/events"]:  # fmt: skip
        code, body = status(target)
        assert code in (400, 404), (target, code, body)


# --- resuming a stream by sequence id ---------------------------------------------------


@pytest.mark.xfail(
    strict=True,
    reason="documented limit (docs/lifecycle.md): a parallel branch's write delayed past the "
    "50 ms settle window (throttling retries) sorts before events a reader already got, so "
    "sequence ids shift under a resuming reader: it sees a duplicate and skips an event",
)
def test_a_parallel_branch_written_late_never_shifts_sequence_ids_under_a_reader() -> None:
    from datetime import UTC, datetime, timedelta

    from sdk.journal.records import StepRecord, StepStatus
    from sdk.lifecycle.stream import read_page

    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    ms = timedelta(milliseconds=1)
    run = ExecutionRecord("root", "par", ExecutionStatus.RUNNING, t0, started_at=t0)

    def step(key: str, position: int, start: int, end: int) -> StepRecord:
        return StepRecord(key, "run", key, StepStatus.COMPLETED, output="1",
                          started_at=t0 + start * ms, finished_at=t0 + end * ms,
                          position=position)  # fmt: skip

    a = step("a", 1, 1, 10)  # branch a ends at 10 ms but its write lands 400 ms later
    b = step("b", 2, 1, 20)  # branch b ends at 20 ms and is visible at once

    class Journal:
        def __init__(self, steps: dict[str, StepRecord]) -> None:
            self.steps = steps

        def get_execution(self, _: str) -> ExecutionRecord:
            return run

        def list_children(self, _: str) -> list[ExecutionRecord]:
            return []

        def load_steps(self, _: str) -> dict[str, StepRecord]:
            return dict(self.steps)

    early = read_page(Journal({"b": b}), "root", now=t0 + 300 * ms)  # type: ignore[arg-type]
    seen = {e.sequence_id: e.id for e in early.events}
    later = read_page(Journal({"a": a, "b": b}), "root", after=early.last_sequence_id,
                      now=t0 + 500 * ms)  # type: ignore[arg-type]  # fmt: skip
    everything = list(seen.values()) + [e.id for e in later.events]
    assert len(everything) == len(set(everything)), "a duplicate"
    whole = read_page(Journal({"a": a, "b": b}), "root", now=t0 + 500 * ms)  # type: ignore[arg-type]
    assert set(everything) == {e.id for e in whole.events}, "a gap"

