"""Golden journals, recorded by an earlier version, replayed against today's code.

``golden_order.json`` holds every step of an ``order`` execution whose first
invocation died before it recorded the outcome (status ``running``, its lease
expired): the next invocation must finish it without running a step.
``golden_order_nondeterministic.json`` is the same journal written by code that
called another function at ``pack``: replaying it must say so.
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
