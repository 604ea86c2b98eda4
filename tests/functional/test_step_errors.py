"""Step errors replay as themselves, on both journals: the ``except`` that matched on the
first run matches on every replay, with the same attributes.

``caught_as_itself`` fails one step with the error named by its input, catches it by
its type and then waits, so a second invocation replays the recorded failure.
``failures_caught`` fails four steps that way; its golden journals are in
``tests/fixtures/golden_step_errors*.json``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from sdk import ExecutionStatus, WorkflowContext, workflow
from tests.support import CALLS, Harness

Build = Callable[..., Harness]

THROTTLED = {
    "Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"},
    "ResponseMetadata": {"HTTPStatusCode": 400, "RetryAttempts": 0},
}
CONDITION_FAILED = {
    "Error": {
        "Code": "ConditionalCheckFailedException",
        "Message": "The condition failed",
    },
    "ResponseMetadata": {"HTTPStatusCode": 400, "RetryAttempts": 0},
}


class PaymentDeclined(Exception):
    """A user error whose constructor does not take its message."""

    def __init__(self, order_id: str, amount: float) -> None:
        super().__init__(f"payment of {amount} for {order_id} declined")
        self.order_id = order_id
        self.amount = amount


class Unprintable(Exception):
    """An error whose ``str()`` raises."""

    def __str__(self) -> str:
        raise RuntimeError("no text for you")


def fail_with(kind: str) -> None:
    """A step body that fails with the error named by ``kind``."""
    CALLS[f"fail {kind}"] += 1
    if kind == "key":
        raise KeyError("sku-42")
    if kind == "client":
        raise ClientError(THROTTLED, "PutItem")  # type: ignore[arg-type]
    if kind == "modeled":  # what boto3 raises: a class botocore makes at run time
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        raise dynamodb.exceptions.ConditionalCheckFailedException(CONDITION_FAILED, "PutItem")
    if kind == "payment":
        raise PaymentDeclined("o-7", 12.5)
    if kind == "wrapped":
        try:
            {}["sku-42"]
        except KeyError as missing:
            raise PaymentDeclined("o-8", 3.0) from missing
    if kind == "unprintable":
        raise Unprintable()
    raise ValueError(f"invalid {kind}")


async def attempt(ctx: WorkflowContext, key: str, kind: str) -> str:
    """Run the failing step and say which ``except`` caught it, with what."""
    try:
        await ctx.step.run(key, fail_with, kind, max_retries=0)
    except KeyError as missing:
        seen = f"KeyError {missing.args!r}"
    except ClientError as failed:
        error = failed.response["Error"]
        seen = f"ClientError {error['Code']} {error['Message']!r} {failed.operation_name}"
    except PaymentDeclined as declined:
        seen = f"PaymentDeclined {declined.order_id} {declined.amount!r} {declined}"
        if declined.__cause__ is not None:
            seen += f" from {declined.__cause__!r}"
    except ValueError as invalid:
        seen = f"ValueError {invalid.args!r}"
    except Unprintable:
        seen = "Unprintable"
    except Exception as other:
        seen = f"other {type(other).__name__}: {other}"
    CALLS[seen] += 1  # workflow code, not a step: runs again on every replay
    return seen


@workflow(id="caught-as-itself")
async def caught_as_itself(ctx: WorkflowContext, kind: str) -> str:
    seen = await attempt(ctx, "fail", kind)
    await ctx.step.wait_for("pause", seconds=1)
    return seen


@workflow(id="failures-caught")
async def failures_caught(ctx: WorkflowContext) -> list[str]:
    seen = [
        await attempt(ctx, key, kind)
        for key, kind in [
            ("missing", "key"),
            ("throttled", "client"),
            ("condition", "modeled"),
            ("declined", "payment"),
            ("wrapped", "wrapped"),
            ("invalid", "value"),
        ]
    ]
    await ctx.step.wait_for("pause", seconds=1)
    return seen


CAUGHT = {
    "key": "KeyError ('sku-42',)",
    "client": "ClientError ThrottlingException 'Rate exceeded' PutItem",
    "modeled": "ClientError ConditionalCheckFailedException 'The condition failed' PutItem",
    "payment": "PaymentDeclined o-7 12.5 payment of 12.5 for o-7 declined",
    "wrapped": "PaymentDeclined o-8 3.0 payment of 3.0 for o-8 declined from KeyError('sku-42')",
}
KINDS = pytest.mark.parametrize("kind", list(CAUGHT))


@KINDS
def test_a_caught_step_error_is_caught_the_same_way_when_replayed(
    harness: Build, kind: str
) -> None:
    h = harness(caught_as_itself)
    handle = caught_as_itself.invoke(h.client, kind)
    assert handle.status() is ExecutionStatus.SUSPENDED
    h.advance(seconds=1)
    assert handle.result(timeout=5) == CAUGHT[kind]
    assert CALLS == {f"fail {kind}": 1, CAUGHT[kind]: 2}  # one run, one replay


@KINDS
def test_always_replay_catches_a_step_error_the_same_way(harness: Build, kind: str) -> None:
    h = harness(caught_as_itself, always_replay=True)
    handle = caught_as_itself.invoke(h.client, kind)
    h.advance(seconds=1)
    assert handle.result(timeout=5) == CAUGHT[kind]
    assert CALLS[f"fail {kind}"] == 1
    assert set(CALLS) == {f"fail {kind}", CAUGHT[kind]}  # no other branch, ever
    assert CALLS[CAUGHT[kind]] >= 2  # caught on each replay after the step ran


def test_a_replayed_error_carries_its_original_traceback_in_a_note(harness: Build) -> None:
    h = harness(caught_as_itself)
    handle = caught_as_itself.invoke(h.client, "payment")
    h.advance(seconds=1)
    handle.result(timeout=5)
    error = h.steps(handle.id)["fail"].error
    assert error is not None
    rebuilt = error.rebuild(step_key="fail")
    assert rebuilt.__notes__ == [
        f"recorded failure of step 'fail'; original traceback:\n{error.traceback}"
    ]
    assert 'raise PaymentDeclined("o-7", 12.5)' in error.traceback


@workflow(id="uncaught")
async def uncaught(ctx: WorkflowContext, kind: str) -> None:
    await ctx.step.run("fail", fail_with, kind, max_retries=0)


def test_a_failed_execution_s_result_raises_the_workflow_s_error_as_itself(
    harness: Build,
) -> None:
    h = harness(uncaught)
    handle = uncaught.invoke(h.client, "client")
    with pytest.raises(ClientError) as failed:
        handle.result(timeout=5)
    assert failed.value.response["Error"]["Code"] == "ThrottlingException"
    assert failed.value.operation_name == "PutItem"


def test_a_failed_execution_s_error_keeps_its_cause(harness: Build) -> None:
    h = harness(uncaught)
    with pytest.raises(PaymentDeclined) as failed:
        uncaught.invoke(h.client, "wrapped").result(timeout=5)
    assert (failed.value.order_id, failed.value.amount) == ("o-8", 3.0)
    assert repr(failed.value.__cause__) == "KeyError('sku-42')"


@workflow(id="child-fails")
async def child_fails(ctx: WorkflowContext, kind: str) -> None:
    fail_with(kind)


@workflow(id="parent-of-failing")
async def parent_of_failing(ctx: WorkflowContext, kind: str) -> str:
    from sdk.errors import ChildWorkflowFailedError

    try:
        await ctx.step.invoke_and_wait("child", child_fails, kind)
    except ChildWorkflowFailedError as failed:
        cause: Any = failed.__cause__
        seen = f"{type(cause).__name__} {cause.order_id} {cause.amount}"
    CALLS[seen] += 1
    return seen


def test_a_failed_child_s_error_reaches_the_parent_as_itself(harness: Build) -> None:
    h = harness(parent_of_failing, child_fails)
    result = parent_of_failing.invoke(h.client, "payment").result(timeout=5)
    assert result == "PaymentDeclined o-7 12.5"
    assert CALLS[result] >= 1 and CALLS["fail payment"] == 1


def test_an_error_whose_str_raises_is_recorded_and_not_run_again(harness: Build) -> None:
    h = harness(caught_as_itself)
    handle = caught_as_itself.invoke(h.client, "unprintable")
    h.advance(seconds=1)
    assert handle.result(timeout=5) == "Unprintable"
    assert CALLS == {"fail unprintable": 1, "Unprintable": 2}
    error = h.steps(handle.id)["fail"].error
    assert error is not None and error.message == "<unprintable Unprintable>"
