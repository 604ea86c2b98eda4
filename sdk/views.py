"""JSON views of workflows, executions and steps, as the HTTP API and the CLI show them."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from sdk.journal.records import ExecutionRecord, StepRecord, iso
from sdk.workflow import Workflow


def _json(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def workflow_view(wf: Workflow[Any]) -> dict[str, Any]:
    return {
        "id": wf.id,
        "trigger_on_event": wf.trigger_on_event,
        "batch_size": wf.batch_size,
        "batch_timeout_seconds": wf.batch_timeout_seconds,
        "schedule": None
        if wf.schedule is None
        else {"cron": wf.schedule.cron, "timezone": wf.schedule.timezone},
    }


def step_view(step: StepRecord) -> dict[str, Any]:
    took = None
    if step.started_at is not None and step.finished_at is not None:
        took = round((step.finished_at - step.started_at).total_seconds() * 1000, 3)
    return {
        "key": step.key,
        "position": step.position,
        "step_type": step.step_type,
        "callable": step.callable_name,
        "status": step.status.value,
        "attempts": step.attempts,
        "started_at": None if step.started_at is None else iso(step.started_at),
        "finished_at": None if step.finished_at is None else iso(step.finished_at),
        "duration_ms": took,
        "output": _json(step.output),
        "error": None if step.error is None else step.error.to_dict(),
    }


def execution_view(
    record: ExecutionRecord, steps: Iterable[StepRecord] | None = None
) -> dict[str, Any]:
    view: dict[str, Any] = {
        "execution_id": record.execution_id,
        "workflow_id": record.workflow_id,
        "status": record.status.value,
        "cancel_requested": record.cancel_requested,
        "created_at": iso(record.created_at),
        "started_at": None if record.started_at is None else iso(record.started_at),
        "finished_at": None if record.finished_at is None else iso(record.finished_at),
        "attempt": record.attempt,
        "parent_execution_id": record.parent_execution_id,
        "root_execution_id": record.root_id,
        "input": _json(record.input),
        "output": _json(record.output),
        "error": None if record.error is None else record.error.to_dict(),
    }
    if steps is not None:
        ordered = sorted(
            (s for s in steps if not s.bookkeeping), key=lambda s: (s.position, s.key)
        )
        view["steps"] = [step_view(step) for step in ordered]
    return view
