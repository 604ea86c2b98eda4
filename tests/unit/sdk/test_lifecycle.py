"""Lifecycle events derived from plain journal records (no I/O)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sdk.failures import ErrorInfo
from sdk.journal.records import (
    ExecutionRecord,
    ExecutionStatus,
    StepRecord,
    StepStatus,
    Suspension,
    Try,
    iso,
)
from sdk.lifecycle import EventType, execution_events
from sdk.lifecycle.stream import Journaled, stream_events
from sdk.replay import SLOT

T0 = datetime(2030, 1, 1, tzinfo=UTC)
BOOM = ErrorInfo("builtins:ValueError", "boom", "Traceback (most recent call last): ...")


def _at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def _execution(
    status: ExecutionStatus = ExecutionStatus.COMPLETED, **more: object
) -> ExecutionRecord:
    fields: dict[str, object] = {"started_at": T0, "finished_at": _at(60)}
    fields.update(more)
    return ExecutionRecord("ex-1", "wf", status, T0, **fields)  # type: ignore[arg-type]


def _run(key: str, position: int, start: float, end: float, **more: object) -> StepRecord:
    fields: dict[str, object] = {"started_at": _at(start), "finished_at": _at(end)}
    fields.update(more)
    status = fields.pop("status", StepStatus.COMPLETED)
    return StepRecord(key, "run", "fn", status, position=position, **fields)  # type: ignore[arg-type]


def _types(execution: ExecutionRecord, *steps: StepRecord) -> list[tuple[str, str | None]]:
    events = execution_events(execution, {s.key: s for s in steps})
    return [(e.event_type.value, e.step_key) for e in events]


def test_a_finished_step_yields_start_and_finish_with_its_runtime_in_microseconds() -> None:
    events = execution_events(_execution(), {"a": _run("a", 0, 1, 1.25)})
    start, finish = events[1], events[2]
    assert (start.event_type, finish.event_type) == (EventType.STEP_START, EventType.STEP_FINISH)
    assert finish.data["runtime_us"] == 250_000
    assert start.created_at == iso(_at(1)) and finish.created_at == iso(_at(1.25))
    assert finish.data["step_type"] == "run" and finish.data["attempt"] == 1


def test_a_failed_step_and_a_failed_workflow_get_their_end_events_with_the_error() -> None:
    failed = _run("a", 0, 1, 2, status=StepStatus.FAILED, error=BOOM)
    execution = _execution(ExecutionStatus.FAILED, error=BOOM)
    events = execution_events(execution, {"a": failed})
    assert [e.event_type for e in events] == [
        EventType.WORKFLOW_START,
        EventType.STEP_START,
        EventType.STEP_ERROR,
        EventType.WORKFLOW_FAIL,
    ]
    expected = {"type": BOOM.type, "message": "boom", "traceback": BOOM.traceback}
    assert events[2].data["error"] == expected == events[3].data["error"]


def test_retries_within_one_invocation_count_from_the_final_record() -> None:
    step = _run("a", 0, 1, 5, attempts=3)
    assert _types(_execution(), step)[1:4] == [
        ("step_start", "a"), ("step_retry", "a"), ("step_retry", "a"),
    ]  # fmt: skip
    retries = execution_events(_execution(), {"a": step})[2:4]
    assert [e.attempt for e in retries] == [2, 3] and retries[0].error is None


def test_a_long_retry_record_yields_a_retry_carrying_the_attempt_s_error() -> None:
    slot = f"a{SLOT}retry1"
    retry = StepRecord(slot, "retry", "fn", StepStatus.WAITING, output=json.dumps(iso(_at(40))),
                       error=BOOM, attempts=1, started_at=_at(1), position=0)  # fmt: skip
    running = _execution(ExecutionStatus.SUSPENDED, finished_at=None)
    events = execution_events(running, {slot: retry})
    assert [(e.event_type, e.attempt) for e in events] == [
        (EventType.WORKFLOW_START, None), (EventType.STEP_START, 1), (EventType.STEP_RETRY, 2),
    ]  # fmt: skip
    assert events[2].error == BOOM


def test_a_wait_ends_only_once_the_workflow_went_past_it() -> None:
    wait = StepRecord("nap", "wait", "", StepStatus.WAITING, output=json.dumps(iso(_at(30))),
                      started_at=_at(1), position=0)  # fmt: skip
    waiting = _execution(ExecutionStatus.SUSPENDED, finished_at=None)
    assert _types(waiting, wait) == [("workflow_start", None), ("step_start", "nap")]
    after = _run("after", 1, 31, 32)
    assert _types(waiting, wait, after)[2] == ("step_finish", "nap")


def test_cancelled_and_parked_executions() -> None:
    assert _types(_execution(ExecutionStatus.CANCELLED, started_at=None)) == [
        ("workflow_cancel", None)
    ]
    parked = _execution(ExecutionStatus.PARKED, error=BOOM)
    assert _types(parked) == [("workflow_start", None)]


def test_ids_are_stable_and_distinct() -> None:
    steps = {"a": _run("a", 0, 1, 2, attempts=2), "b": _run("b", 1, 2, 3)}
    first = execution_events(_execution(), steps)
    assert execution_events(_execution(), dict(reversed(steps.items()))) == first
    assert len({e.id for e in first}) == len(first)


def test_the_envelope_is_the_page_s() -> None:
    event = execution_events(_execution(), {"a": _run("a", 0, 1, 2)})[1].at(7)
    assert event.to_dict() == {
        "id": event.id,
        "sequence_id": 7,
        "event_type": "step_start",
        "data": {
            "step_key": "a",
            "step_type": "run",
            "attempt": 1,
            "_metadata": {"execution_id": "ex-1", "workflow_id": "wf",
                          "parent_execution_id": None, "root_execution_id": "ex-1"},
        },
        "created_at": iso(_at(1)),
    }  # fmt: skip


def test_parallel_steps_stream_in_the_order_their_records_were_written() -> None:
    slow, fast = _run("slow", 0, 1, 9), _run("fast", 1, 1, 2)
    events = stream_events("ex-1", [Journaled(_execution(), {"slow": slow, "fast": fast})])
    assert [(e.event_type.value, e.step_key) for e in events][1:5] == [
        ("step_start", "fast"), ("step_finish", "fast"),
        ("step_start", "slow"), ("step_finish", "slow"),
    ]  # fmt: skip


def test_an_execution_s_own_view_keeps_its_invoke_and_wait_step() -> None:
    marker = StepRecord(
        f"c{SLOT}started", "invoke_and_wait_started", "", StepStatus.COMPLETED,
        output=json.dumps(["kid"]), started_at=_at(1), finished_at=_at(1),
    )  # fmt: skip
    report = StepRecord("c", "invoke_and_wait", "child", StepStatus.COMPLETED, output="1",
                        started_at=_at(1), finished_at=_at(5))  # fmt: skip
    assert _types(_execution(), marker, report)[1:3] == [("step_start", "c"), ("step_finish", "c")]
    alone = stream_events("ex-1", [Journaled(_execution(), {marker.key: marker, "c": report})])
    assert [e.event_type for e in alone] == [EventType.WORKFLOW_START, EventType.WORKFLOW_FINISH]


def test_a_suspension_kept_in_its_record_and_on_the_item_yields_its_events_once() -> None:
    latest = Suspension(_at(10), "wait", 1)
    execution = _execution(ExecutionStatus.RUNNING, finished_at=None, suspension=latest,
                           resumed_at=_at(70))  # fmt: skip
    kept = StepRecord(latest.record_key, "suspension", "wait", StepStatus.COMPLETED,
                      started_at=_at(10), finished_at=_at(70), position=-1)  # fmt: skip
    on_item = execution_events(execution, {})
    both = execution_events(execution, {kept.key: kept})
    assert on_item == both
    assert [(e.event_type, e.created_at) for e in both[1:]] == [
        (EventType.WORKFLOW_SUSPEND, iso(_at(10))), (EventType.WORKFLOW_RESUME, iso(_at(70))),
    ]  # fmt: skip


def test_retries_within_one_invocation_carry_each_try_s_time_and_error() -> None:
    tries = (Try(_at(2), "builtins:ValueError", "first"), Try(_at(3), "builtins:KeyError", "2nd"))
    step = _run("a", 0, 1, 5, attempts=3, tries=tries)
    retries = [e for e in execution_events(_execution(), {"a": step})
               if e.event_type is EventType.STEP_RETRY]  # fmt: skip
    assert [(e.attempt, e.created_at, e.data["error"]["message"]) for e in retries] == [
        (2, iso(_at(2)), "first"), (3, iso(_at(3)), "2nd"),
    ]  # fmt: skip


def test_new_record_attributes_survive_the_item_round_trip() -> None:
    tries = (Try(_at(2), "builtins:ValueError", "x" * 2000),)
    step = _run("a", 0, 1, 5, attempts=2, tries=tries)
    back = StepRecord.from_item(step.to_item("ex-1"))
    assert back.tries[0].message == "x" * 500 and back.tries[0].at == _at(2)
    execution = _execution(suspension=Suspension(_at(10), "children", 4), resumed_at=_at(20))
    assert ExecutionRecord.from_item(execution.to_item()) == execution
