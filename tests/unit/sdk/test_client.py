"""The client refuses bad requests before writing anything, lists, and waits."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from examples.orders import OrderOutput, process_order
from sdk import ExecutionStatus, SteplineError
from sdk.errors import (
    InvalidExecutionIdError,
    InvalidPayloadError,
    ResultTimeoutError,
    WorkflowNotFoundError,
)
from tests.support import Harness, QueueInvoker

Build = Callable[..., Harness]


def test_invoking_an_unknown_workflow_writes_nothing(harness: Build) -> None:
    h = harness(process_order)
    with pytest.raises(WorkflowNotFoundError, match="unknown workflow 'nope'"):
        h.client.invoke("nope", {})
    assert h.client.list_executions() == []


def test_an_invalid_payload_is_refused_before_anything_is_written(harness: Build) -> None:
    h = harness(process_order)
    with pytest.raises(InvalidPayloadError, match=r"(?s)'process-order'.*amount.*greater than 0"):
        h.client.invoke(process_order, {"order_id": "o-1", "amount": -5})
    assert h.client.list_executions() == []


def test_a_batch_is_validated_whole_before_any_execution_starts(harness: Build) -> None:
    h = harness(process_order)
    good = {"order_id": "o-1", "amount": 42}
    with pytest.raises(InvalidPayloadError):
        h.client.batch_invoke([(process_order, good), (process_order, {"order_id": "o-2"})])
    assert h.client.list_executions() == []
    handles = h.client.batch_invoke([(process_order, good), ("process-order", good)])
    assert [handle.result(timeout=5).status for handle in handles] == ["completed", "completed"]


def test_the_example_order_completes(harness: Build) -> None:
    h = harness(process_order)
    out = process_order.invoke(h.client, {"order_id": "o-1", "amount": 42}).result(timeout=5)
    assert isinstance(out, OrderOutput)
    assert (out.order_id, out.status, out.reservation_id) == ("o-1", "completed", "res-o-1")


def test_executions_are_listed_by_workflow_and_status(harness: Build) -> None:
    h = harness(process_order)
    handle = h.client.invoke(process_order, {"order_id": "o-1", "amount": 1})
    listed = h.client.list_executions(workflow_id="process-order", status="completed")
    assert [r.execution_id for r in listed] == [handle.id]
    assert h.client.list_executions(status=ExecutionStatus.FAILED) == []
    with pytest.raises(SteplineError, match="unknown status 'done'"):
        h.client.list_executions(status="done")
    with pytest.raises(WorkflowNotFoundError):
        h.client.list_executions(workflow_id="nope")


def test_waiting_on_an_execution_that_never_runs_times_out(harness: Build) -> None:
    h = harness(process_order)
    h.client.invoker = QueueInvoker()  # nothing will run it
    handle = h.client.invoke(process_order, {"order_id": "o-1", "amount": 1})
    assert handle.status() is ExecutionStatus.PENDING
    with pytest.raises(ResultTimeoutError, match="still pending after 0.05s"):
        handle.result(timeout=0.05)


def test_an_input_too_large_to_store_is_refused_before_anything_is_written(
    harness: Build,
) -> None:
    h = harness(process_order)
    with pytest.raises(SteplineError, match="input of workflow 'process-order' is .* bytes"):
        h.client.invoke(process_order, {"order_id": "o" * 400_000, "amount": 1})
    assert h.client.list_executions() == []


def test_an_execution_id_breaking_the_rule_is_refused_before_anything_is_written(
    harness: Build,
) -> None:
    h = harness(process_order)
    with pytest.raises(InvalidExecutionIdError, match="'a/b' contains '/'"):
        h.client.invoke(process_order, {"order_id": "o-1", "amount": 42}, execution_id="a/b")
    assert h.client.list_executions() == []
