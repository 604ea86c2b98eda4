"""Golden journals, recorded by an earlier version, replayed against today's code.

``golden_order.json`` holds every step of an ``order`` execution whose first
invocation died before it recorded the outcome (status ``running``, its lease
expired): the next invocation must finish it without running a step.
``golden_order_nondeterministic.json`` is the same journal written by code that
called another function at ``pack``: replaying it must say so.
``golden_step_errors.json`` holds six failed steps of ``failures-caught`` (KeyError,
ClientError, a modeled botocore error, a user error with its own constructor, one with a
cause, ValueError) in today's error format; ``golden_step_errors_v1.json`` is the same
journal in the first format (type, message, traceback), which replays as it always did.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime

import pytest

from sdk import ExecutionStatus
from sdk.errors import ExecutionParkedError
from tests.support import CALLS, Harness, load_journal_fixture
from tests.workflows import Receipt, order_workflow

Build = Callable[..., Harness]


def test_the_golden_journal_replays_to_the_same_result_without_running_steps(
    harness: Build,
) -> None:
    h = harness(order_workflow)
    execution_id = load_journal_fixture(h.journal, "golden_order.json")
    h.clock.advance(minutes=2)  # the dead invocation's lease has run out
    h.invoker.invoke_async(execution_id)
    assert h.client.handle(execution_id).result(timeout=5) == Receipt(
        order_id="golden-1", total=43, charged_at=datetime(2030, 1, 2)
    )
    assert CALLS == {}


def test_a_journal_from_different_code_is_parked_as_non_deterministic(harness: Build) -> None:
    h = harness(order_workflow)
    execution_id = load_journal_fixture(h.journal, "golden_order_nondeterministic.json")
    h.clock.advance(minutes=2)
    h.invoker.invoke_async(execution_id)
    with pytest.raises(ExecutionParkedError, match=r"'pack' was recorded as run\(pack_legacy\)"):
        h.client.handle(execution_id).result(timeout=5)
    parked = h.client.get_execution(execution_id)
    assert parked.status is ExecutionStatus.PARKED
    assert parked.error is not None and parked.error.type_name == "NonDeterministicError"
    assert re.search(r"'pack' was recorded as run\(pack_legacy\) .* run\(pack\)",
                     parked.error.message)  # fmt: skip
    assert CALLS == {}


def test_a_golden_journal_suspended_on_a_wait_resumes_after_it(harness: Build) -> None:
    from tests.functional.test_waits import cool_off

    h = harness(cool_off)
    execution_id = load_journal_fixture(h.journal, "golden_wait.json")
    h.clock.advance(minutes=4)
    h.invoker.invoke_async(execution_id)  # an early wake-up waits on
    assert h.client.get_execution(execution_id).status is ExecutionStatus.SUSPENDED
    h.advance(minutes=1)
    assert h.client.handle(execution_id).result(timeout=5) == "shipped golden-1"
    assert CALLS == {"ship": 1}  # the recorded charge is not made again


def test_a_golden_journal_with_a_reported_child_replays_to_the_result(harness: Build) -> None:
    from tests.functional.test_children import parent, square

    h = harness(parent, square)
    execution_id = load_journal_fixture(h.journal, "golden_child.json")
    h.invoker.invoke_async(execution_id)
    result = h.client.handle(execution_id).result(timeout=5)
    assert result["child"]["value"] == 49 and result["steps"] == "ba"
    assert CALLS == {"after": 1}  # neither "before" nor the child ran again
    assert h.client.list_executions(workflow_id="square") == []  # no child started


def _replay_failures_caught(harness: Build, fixture: str) -> list[str]:
    from tests.functional.test_step_errors import failures_caught

    h = harness(failures_caught)
    execution_id = load_journal_fixture(h.journal, fixture)
    h.clock.advance(seconds=1)  # the wait is due
    h.invoker.invoke_async(execution_id)
    seen: list[str] = h.client.handle(execution_id).result(timeout=5)
    assert not [name for name in CALLS if name.startswith("fail ")]  # no step body ran
    return seen


def test_a_golden_journal_of_recorded_errors_replays_each_as_itself(harness: Build) -> None:
    from tests.functional.test_step_errors import CAUGHT

    assert _replay_failures_caught(harness, "golden_step_errors.json") == [
        CAUGHT["key"],
        CAUGHT["client"],
        CAUGHT["modeled"],
        CAUGHT["payment"],
        CAUGHT["wrapped"],
        "ValueError ('invalid value',)",
    ]


def test_a_golden_journal_of_errors_in_the_first_format_replays_as_before(
    harness: Build,
) -> None:
    throttled = "An error occurred (ThrottlingException) when calling the PutItem operation"
    condition = "An error occurred (ConditionalCheckFailedException) when calling the PutItem"
    assert _replay_failures_caught(harness, "golden_step_errors_v1.json") == [
        "other StepFailedError: KeyError: 'sku-42'",
        f"other StepFailedError: ClientError: {throttled}: Rate exceeded",
        f"other StepFailedError: ConditionalCheckFailedException: {condition} operation: "
        "The condition failed",
        "other StepFailedError: PaymentDeclined: payment of 12.5 for o-7 declined",
        "other StepFailedError: PaymentDeclined: payment of 3.0 for o-8 declined",
        "ValueError ('invalid value',)",  # a type built from its message alone
    ]
