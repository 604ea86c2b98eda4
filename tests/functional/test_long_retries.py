"""Long retry delays suspend on a timer instead of sleeping inside the invocation."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from sdk import ExecutionStatus, WorkflowContext, workflow
from sdk.journal import StepStatus
from tests.support import CALLS, Harness

Build = Callable[..., Harness]


def flaky_upstream(fail_times: int) -> str:
    CALLS["call"] += 1
    if CALLS["call"] <= fail_times:
        raise ConnectionError(f"upstream down (attempt {CALLS['call']})")
    return "ok"


@workflow(id="patient")
async def patient(ctx: WorkflowContext, fail_times: int) -> str:
    return await ctx.step.run(
        "call", flaky_upstream, fail_times, max_retries=3, base_delay=60, max_delay=600
    )


def test_a_long_retry_delay_suspends_and_the_timer_retries(harness: Build) -> None:
    h = harness(patient)
    handle = h.client.invoke(patient, 2)
    assert handle.status() is ExecutionStatus.SUSPENDED and CALLS["call"] == 1
    retry = h.steps(handle.id)["call\x1fretry1"]
    assert retry.status is StepStatus.WAITING and retry.error is not None
    assert "upstream down (attempt 1)" in retry.error.message
    h.advance(seconds=59)
    assert CALLS["call"] == 1  # not before its time
    h.advance(seconds=1)
    assert CALLS["call"] == 2 and handle.status() is ExecutionStatus.SUSPENDED  # 120 s next
    h.advance(seconds=120)
    assert handle.result(timeout=1) == "ok"
    assert h.steps(handle.id)["call"].attempts == 3
    assert h.invoker.invocations == 3


def test_exhausted_long_retries_record_the_failure(harness: Build) -> None:
    h = harness(patient)
    handle = h.client.invoke(patient, 10)
    h.advance(minutes=60)
    with pytest.raises(ConnectionError, match="attempt 4"):
        handle.result(timeout=1)
    assert h.steps(handle.id)["call"].attempts == 4


@workflow(id="impatient")
async def impatient(ctx: WorkflowContext, fail_times: int) -> str:
    return await ctx.step.run("call", flaky_upstream, fail_times, base_delay=1, max_delay=10)


def test_short_delays_still_sleep_in_the_invocation(harness: Build) -> None:
    h = harness(impatient)
    assert h.client.invoke(impatient, 2).result(timeout=1) == "ok"
    assert h.invoker.invocations == 1
