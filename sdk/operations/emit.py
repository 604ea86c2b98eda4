"""``ctx.step.emit``: a message the workflow emits into its own lifecycle stream.

Recorded once under its key like any step, so a replay never emits it again; the
stream shows it as a ``workflow_message`` event (``sdk.lifecycle``).
"""

from __future__ import annotations

from typing import Any

from sdk import serde
from sdk.execution import ExecutionState
from sdk.journal.records import EMIT, StepRecord, StepStatus
from sdk.operations.base import perform
from sdk.replay import StepCall, check_key


def check_message(message: object, data: object) -> None:
    """Refuse what a ``workflow_message`` cannot carry, naming it."""
    if not isinstance(message, str):
        raise TypeError(f"emit: message must be text (str), got {type(message).__name__}")
    if data is not None and not isinstance(data, dict):
        raise TypeError(f"emit: data must be a dict or None, got {type(data).__name__}")


async def emit(state: ExecutionState, key: str, message: str, data: dict[str, Any] | None) -> None:
    check_message(message, data)
    call = StepCall(check_key(key), EMIT)

    async def execute() -> tuple[StepRecord, BaseException | None]:
        moment = state.now()
        value = {"message": message, "attributes": data}
        output = serde.dumps(value, what=f"message {key!r}", limit=state.journal.max_value_bytes)
        record = StepRecord(
            key, EMIT, "", StepStatus.COMPLETED, output=output, output_tag=serde.type_tag(value),
            started_at=moment, finished_at=moment, position=state.position(key),
        )  # fmt: skip
        return record, None

    await perform(state, call, execute, None)
