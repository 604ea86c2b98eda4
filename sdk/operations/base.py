"""The template every durable operation follows.

Look the key up in the journal; if a record exists, replay it; otherwise execute
the operation, record its outcome with one conditional write, and hand back what
was recorded. A recorded value is decoded the same way on the first run and on
every replay, so workflow code sees identical values either way.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sdk import serde
from sdk.execution import ExecutionState
from sdk.journal.records import StepRecord, StepStatus
from sdk.replay import StepCall

Execute = Callable[[], Awaitable[tuple[StepRecord, BaseException | None]]]


async def perform(state: ExecutionState, call: StepCall, execute: Execute, annotation: Any) -> Any:
    """Replay ``call`` from the journal, or run ``execute`` and record its outcome.

    ``execute`` returns the record to write and, for a failure, the original exception,
    which is raised as is on the first run (replays raise a rebuilt copy).
    """
    record = state.begin(call)
    if record is None:
        state.before_new_step()
        state.started()
        try:
            record, original = await execute()
            stored = state.record(record)
        finally:
            state.stopped()
        state.after_new_step()
        if original is not None and stored == record:  # ours (perhaps through a retried put)
            raise original
        record = stored
    return outcome(record, annotation)


def outcome(record: StepRecord, annotation: Any) -> Any:
    """The value a recorded step returns, or its recorded error raised again."""
    if record.status is StepStatus.COMPLETED:
        return serde.loads(record.output, annotation=annotation, tag=record.output_tag)
    assert record.error is not None
    raise record.error.rebuild(step_key=record.key)
