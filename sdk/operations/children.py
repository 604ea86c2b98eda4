"""Child workflows: ``invoke``, ``invoke_and_wait``, ``batch_invoke``, ``batch_invoke_and_wait``.

A child's execution id derives from the parent's id and the step key (and its index
in a batch), and creating an execution is idempotent, so no crash or replay ever
starts a child twice. A child started by a ``..._and_wait`` call knows the parent
step key to report to: when it finishes it writes its outcome into the parent's
journal under that key and invokes the parent, which then replays to the result.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sdk import serde
from sdk.errors import ChildWorkflowFailedError, ExecutionConflictError, SteplineError
from sdk.execution import ExecutionState
from sdk.ids import derived_id
from sdk.journal.records import ExecutionRecord, ExecutionStatus, StepRecord, StepStatus
from sdk.operations.base import perform
from sdk.replay import SLOT, StepCall, check_key
from sdk.sweeper import START_GRACE
from sdk.workflow import Workflow


@dataclass(frozen=True)
class ChildHandle:
    """A started child: its execution id and workflow id."""

    id: str
    workflow_id: str


def _workflow(state: ExecutionState, workflow: Workflow[Any] | str) -> Workflow[Any]:
    if state.app is None or state.invoker is None:
        raise SteplineError("this engine cannot start child workflows (no app or invoker)")
    return state.app.get(workflow if isinstance(workflow, str) else workflow.id)


def _start(
    state: ExecutionState,
    wf: Workflow[Any],
    payload: Any,
    child_id: str,
    report_to: str | None,
    position: int,
) -> None:
    """Create the child (idempotent) and start it; AWS failures never reach the workflow."""
    parent = state.execution
    now = state.now()
    record = ExecutionRecord(
        execution_id=child_id,
        workflow_id=wf.id,
        status=ExecutionStatus.PENDING,
        created_at=now,
        input=wf.encode_input(payload, limit=state.journal.max_value_bytes),
        parent_execution_id=parent.execution_id,
        root_execution_id=parent.root_id,
        user_id=parent.user_id,
        session_id=parent.session_id,
        parent_step_key=report_to,
        parent_step_position=position,
        due_at=now + START_GRACE,
    )
    assert state.invoker is not None
    with state.infrastructure(f"cannot start child {child_id!r}"):
        try:
            state.journal.create_execution(record)
        except ExecutionConflictError:
            # Its id derives from this parent and step: it is the same child, started by an
            # earlier deployment whose input type encoded the payload differently.
            existing = state.journal.get_execution(child_id)
            if (existing.parent_execution_id, existing.workflow_id) != (parent.execution_id, wf.id):
                raise
        state.invoker.invoke_async(child_id)


def _mark_started(state: ExecutionState, key: str, step_type: str, ids: list[str]) -> None:
    """Record that the children of ``key`` were started, so no replay starts them again."""
    now = state.now()
    state.record(StepRecord(
        key, step_type, "", StepStatus.COMPLETED, output=json.dumps(ids),
        started_at=now, finished_at=now, position=state.position(key.split(SLOT)[0]),
    ))  # fmt: skip


def _child_result(record: StepRecord, wf: Workflow[Any]) -> Any:
    """The value of a child's reported outcome, or its failure as an exception (not raised)."""
    if record.status is StepStatus.COMPLETED:
        return serde.loads(record.output, annotation=wf.output_annotation, tag=record.output_tag)
    assert record.error is not None
    child_id = json.loads(record.output or "null")
    failure = ChildWorkflowFailedError(
        child_id, wf.id, record.error.type_name, record.error.message
    )
    failure.__cause__ = record.error.rebuild()
    return failure


async def invoke(
    state: ExecutionState, key: str, workflow: Workflow[Any] | str, payload: Any
) -> ChildHandle:
    wf = _workflow(state, workflow)
    child_id = derived_id(state.execution_id, key)

    async def execute() -> tuple[StepRecord, BaseException | None]:
        _start(state, wf, payload, child_id, None, state.position(key))
        record = StepRecord(
            key, "invoke", wf.id, StepStatus.COMPLETED, output=json.dumps(child_id),
            started_at=state.now(), finished_at=state.now(), position=state.position(key),
        )  # fmt: skip
        return record, None

    execution_id = await perform(state, StepCall(check_key(key), "invoke", wf.id), execute, str)
    return ChildHandle(execution_id, wf.id)


async def batch_invoke(
    state: ExecutionState, key: str, items: Sequence[tuple[Workflow[Any] | str, Any]]
) -> list[ChildHandle]:
    workflows = [_workflow(state, workflow) for workflow, _ in items]
    ids = [derived_id(state.execution_id, key, str(i)) for i in range(len(items))]

    async def execute() -> tuple[StepRecord, BaseException | None]:
        for wf, (_, payload), child_id in zip(workflows, items, ids, strict=True):
            _start(state, wf, payload, child_id, None, state.position(key))
        record = StepRecord(
            key, "batch_invoke", "", StepStatus.COMPLETED, output=json.dumps(ids),
            started_at=state.now(), finished_at=state.now(), position=state.position(key),
        )  # fmt: skip
        return record, None

    recorded = await perform(state, StepCall(check_key(key), "batch_invoke"), execute, list[str])
    return [ChildHandle(i, wf.id) for i, wf in zip(recorded, workflows, strict=True)]


async def invoke_and_wait(
    state: ExecutionState, key: str, workflow: Workflow[Any] | str, payload: Any
) -> Any:
    wf = _workflow(state, workflow)
    record = state.begin(StepCall(check_key(key), "invoke_and_wait", wf.id))
    if record is None:
        started = f"{key}{SLOT}started"
        if started not in state.steps:
            state.before_new_step()
            state.started()
            try:
                child_id = derived_id(state.execution_id, key)
                _start(state, wf, payload, child_id, key, state.position(key))
                _mark_started(state, started, "invoke_and_wait_started", [child_id])
            finally:
                state.stopped()
        await state.block(key, None, reports=1)  # the outcome arrives as this key's record
    result = _child_result(record, wf)
    if isinstance(result, ChildWorkflowFailedError):
        raise result
    return result


async def batch_invoke_and_wait(
    state: ExecutionState, key: str, items: Sequence[tuple[Workflow[Any] | str, Any]]
) -> list[Any]:
    """Results in input order; a failed child is a ``ChildWorkflowFailedError`` in its slot.

    The children are started once (a record at ``key`` says so); each reports into its
    own slot, and the branch waits until every slot is filled.
    """
    workflows = [_workflow(state, workflow) for workflow, _ in items]
    state.begin(StepCall(check_key(key), "batch_invoke_and_wait"))
    slots = [f"{key}{SLOT}{i}" for i in range(len(items))]
    if key not in state.steps:
        state.before_new_step()
        state.started()
        try:
            ids = [derived_id(state.execution_id, key, str(i)) for i in range(len(items))]
            for i, child_id in enumerate(ids):
                if slots[i] not in state.steps:
                    _start(state, workflows[i], items[i][1], child_id, slots[i],
                           state.position(key))  # fmt: skip
            _mark_started(state, key, "batch_invoke_and_wait", ids)
        finally:
            state.stopped()
    missing = [slot for slot in slots if slot not in state.steps]
    if missing:
        for slot in missing:
            state.blocked[slot] = None
        await state.block(missing[0], None, reports=len(missing))
    return [_child_result(state.steps[s], wf) for s, wf in zip(slots, workflows, strict=True)]
