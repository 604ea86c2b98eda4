"""``ctx.step.run`` on both journals: results, replay, retries, failures, parallel steps."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest

from sdk import (
    ExecutionStatus,
    StepFailedError,
    TerminalError,
    WorkflowContext,
    workflow,
)
from sdk.errors import DuplicateStepKeyError, ExecutionParkedError, SerializationError
from sdk.journal import StepStatus
from tests.support import CALLS, Harness, effect
from tests.workflows import Order, Parcel, Receipt, falsy_workflow, fan_out, helpers, order_workflow

Build = Callable[..., Harness]


def test_a_workflow_returns_its_output_rebuilt_to_its_type(harness: Build) -> None:
    h = harness(order_workflow)
    receipt = order_workflow.invoke(h.client, {"order_id": "o-1", "amount": 42}).result(timeout=5)
    assert receipt == Receipt(order_id="o-1", total=43, charged_at=datetime(2030, 1, 2))
    assert CALLS == {"validate": 1, "charge": 1, "pack": 1}


def test_each_step_is_recorded_once_with_its_output(harness: Build) -> None:
    h = harness(order_workflow)
    handle = h.client.invoke("order", Order(order_id="o-2", amount=5))
    handle.result(timeout=5)
    steps = h.steps(handle.id)
    assert sorted(steps) == ["charge", "pack", "validate"]
    assert steps["pack"].output == '{"weight":0.5,"label":"parcel-o-2"}'
    assert steps["pack"].output_tag == "tests.workflows:Parcel"
    assert all(s.status is StepStatus.COMPLETED and s.attempts == 1 for s in steps.values())
    assert {key: s.position for key, s in steps.items()} == {"validate": 0, "charge": 1, "pack": 2}


def test_always_replay_runs_every_step_exactly_once(harness: Build) -> None:
    h = harness(order_workflow, always_replay=True)
    receipt = h.client.invoke("order", {"order_id": "o-3", "amount": 1}).result(timeout=5)
    assert receipt.total == 2
    assert CALLS == {"validate": 1, "charge": 1, "pack": 1}
    assert h.invoker.invocations == 4  # one per new step, then one that replays all three


def test_replaying_a_finished_journal_calls_no_step(harness: Build) -> None:
    h = harness(order_workflow)
    first = h.client.invoke("order", {"order_id": "o-4", "amount": 3})
    first.result(timeout=5)
    CALLS.clear()
    # A second execution with the same steps already recorded: copy them over, then run.
    second = h.client.journal.create_execution(
        h.client.get_execution(first.id).evolve(
            execution_id="copy", status=ExecutionStatus.PENDING, output=None, output_tag=None
        )
    )
    for step in h.steps(first.id).values():
        h.journal.record_step(second.execution_id, step, now=h.clock.now())
    h.invoker.invoke_async("copy")
    assert h.client.wait("copy", timeout=5).output == h.client.get_execution(first.id).output
    assert CALLS == {}


@pytest.mark.parametrize("always_replay", [False, True])
def test_falsy_results_come_back_exactly(harness: Build, always_replay: bool) -> None:
    h = harness(falsy_workflow, always_replay=always_replay)
    values = falsy_workflow.invoke(h.client).result(timeout=5)
    assert values == [0, "", False, None, [], {}, 0.0]
    assert [type(v) for v in values] == [int, str, bool, type(None), list, dict, float]
    assert sum(CALLS.values()) == 7


def test_uuid_random_and_now_are_recorded_and_replayed(harness: Build) -> None:
    h = harness(helpers, always_replay=True)
    out = helpers.invoke(h.client).result(timeout=5)
    steps = h.steps(h.client.list_executions()[0].execution_id)
    assert {k: s.step_type for k, s in steps.items()} == {
        "id": "uuid",
        "dice": "random",
        "clock": "now",
    }
    assert len(str(out["uuid"])) == 36 and 0 <= float(str(out["random"])) < 1
    assert out["now"] == h.clock.now().isoformat()


def test_fifty_parallel_steps_under_gather(harness: Build) -> None:
    h = harness(fan_out)
    assert fan_out.invoke(h.client, 50).result(timeout=5) == list(range(50))
    assert len(CALLS) == 50 and set(CALLS.values()) == {1}


@workflow(id="flaky")
async def flaky(ctx: WorkflowContext, fail_times: int) -> str:
    def attempt() -> str:
        CALLS["flaky"] += 1
        if CALLS["flaky"] <= fail_times:
            raise ConnectionError(f"attempt {CALLS['flaky']} failed")
        return "ok"

    return await ctx.step.run("call", attempt, max_retries=3, base_delay=1.0, max_delay=3.0)


def test_a_failing_step_is_retried_with_capped_exponential_backoff(harness: Build) -> None:
    h = harness(flaky)
    start = h.clock.now()
    handle = flaky.invoke(h.client, 3)
    assert handle.result(timeout=5) == "ok"
    assert CALLS["flaky"] == 4
    assert h.steps(handle.id)["call"].attempts == 4
    assert (h.clock.now() - start).total_seconds() == 1 + 2 + 3  # 1, 2, then capped at 3


def test_exhausted_retries_record_the_failure_and_fail_the_workflow(harness: Build) -> None:
    h = harness(flaky)
    handle = flaky.invoke(h.client, 10)
    with pytest.raises(ConnectionError, match="attempt 4 failed"):
        handle.result(timeout=5)
    step = h.steps(handle.id)["call"]
    assert step.status is StepStatus.FAILED and step.attempts == 4
    assert step.error is not None and step.error.type == "builtins:ConnectionError"
    assert "attempt 4 failed" in step.error.traceback
    execution = h.client.get_execution(handle.id)
    assert execution.status is ExecutionStatus.FAILED
    assert execution.error is not None and execution.error.message == "attempt 4 failed"


def test_terminal_error_is_not_retried(harness: Build) -> None:
    h = harness(order_workflow)
    handle = order_workflow.invoke(h.client, {"order_id": "bad", "amount": 0})
    with pytest.raises(TerminalError, match="order bad has a non-positive amount"):
        handle.result(timeout=5)
    assert CALLS == {"validate": 1}
    assert h.steps(handle.id)["validate"].attempts == 1


class CodedError(Exception):
    def __init__(self, code: int, text: str) -> None:
        super().__init__(f"{code}: {text}")


def _unimportable() -> Exception:
    class Unimportable(Exception):
        pass

    return Unimportable("odd")


@workflow(id="caught")
async def caught(ctx: WorkflowContext) -> list[str]:
    seen = []
    failures = [ValueError("bad value"), CodedError(7, "odd"), _unimportable()]
    for key, exc in zip(["value", "custom", "local"], failures, strict=True):
        try:
            await ctx.step.run(key, _raise, exc, max_retries=0)
        except Exception as error:
            seen.append(f"{type(error).__name__}: {error}")
    return seen


def _raise(exc: Exception) -> None:
    CALLS["raise"] += 1
    raise exc


@pytest.mark.parametrize("always_replay", [False, True])
def test_a_recorded_failure_is_raised_again_on_replay(harness: Build, always_replay: bool) -> None:
    h = harness(caught, always_replay=always_replay)
    seen = caught.invoke(h.client).result(timeout=5)
    local = "Unimportable: odd"
    if always_replay:  # a class made inside a function cannot be imported to rebuild it
        local = "StepFailedError: _unimportable.<locals>.Unimportable: odd"
    assert seen == ["ValueError: bad value", "CodedError: 7: odd", local]
    assert CALLS["raise"] == 3


def test_a_rebuilt_failure_keeps_type_name_and_message() -> None:
    error = StepFailedError("Unimportable", "odd")
    assert (error.error_type, error.message) == ("Unimportable", "odd")


@workflow(id="twice")
async def twice(ctx: WorkflowContext) -> None:
    await ctx.step.run("same", effect, "first")
    await ctx.step.run("same", effect, "second")


def test_a_key_used_twice_fails_naming_the_key(harness: Build) -> None:
    h = harness(twice)
    handle = twice.invoke(h.client)
    with pytest.raises(DuplicateStepKeyError, match="step key 'same' is used twice"):
        handle.result(timeout=5)
    assert CALLS == {"first": 1}


def _first(x: int) -> int:
    return x


def _second(x: int) -> int:
    return x


CHOICE: dict[str, Any] = {"fn": _first}


@workflow(id="changing")
async def changing(ctx: WorkflowContext) -> int:
    return await ctx.step.run("pick", CHOICE["fn"], 1)


def test_a_changed_callable_at_a_recorded_key_parks_as_non_deterministic(harness: Build) -> None:
    h = harness(changing)
    CHOICE["fn"] = _first
    first = changing.invoke(h.client)
    first.result(timeout=5)
    # Same journal, new code: replay the recorded steps against the changed callable.
    copy = h.journal.create_execution(
        h.client.get_execution(first.id).evolve(
            execution_id="again", status=ExecutionStatus.PENDING
        )
    )
    pick = h.steps(first.id)["pick"]
    h.journal.record_step(copy.execution_id, pick, now=h.clock.now())
    CHOICE["fn"] = _second
    h.invoker.invoke_async("again")
    with pytest.raises(
        ExecutionParkedError, match=r"'pick' was recorded as run\(_first\) .* calls run\(_second\)"
    ):
        h.client.handle("again").result(timeout=5)


@workflow(id="unstorable")
async def unstorable(ctx: WorkflowContext) -> None:
    await ctx.step.run("socket", lambda: object())


def test_an_unstorable_step_result_is_a_clear_error_naming_the_step(harness: Build) -> None:
    h = harness(unstorable)
    with pytest.raises(SerializationError, match=r"step 'socket' as JSON: .*object"):
        unstorable.invoke(h.client).result(timeout=5)


def test_step_values_may_be_dataclasses(harness: Build) -> None:
    h = harness(order_workflow, always_replay=True)
    order_workflow.invoke(h.client, {"order_id": "o-9", "amount": 20}).result(timeout=5)
    assert CALLS["pack"] == 1  # the replayed Parcel passed the workflow's isinstance check
    assert Parcel(weight=2.0, label="parcel-o-9")
