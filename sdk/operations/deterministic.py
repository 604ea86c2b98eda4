"""``ctx.step.uuid/random/now``: nondeterministic values, recorded once and replayed."""

from __future__ import annotations

import random as _random
import uuid as _uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sdk import serde
from sdk.execution import ExecutionState
from sdk.journal.records import StepRecord, StepStatus
from sdk.operations.base import perform
from sdk.replay import StepCall, check_key


async def _recorded(
    state: ExecutionState, key: str, step_type: str, produce: Callable[[], Any], annotation: Any
) -> Any:
    call = StepCall(check_key(key), step_type)

    async def execute() -> tuple[StepRecord, BaseException | None]:
        moment = state.now()
        value = produce()
        record = StepRecord(
            key, step_type, "", StepStatus.COMPLETED,
            output=serde.dumps(value, what=f"step {key!r}"), output_tag=serde.type_tag(value),
            started_at=moment, finished_at=moment, position=state.position(key),
        )  # fmt: skip
        return record, None

    return await perform(state, call, execute, annotation)


async def uuid(state: ExecutionState, key: str) -> str:
    return str(await _recorded(state, key, "uuid", lambda: str(_uuid.uuid4()), str))


async def random(state: ExecutionState, key: str) -> float:
    return float(await _recorded(state, key, "random", _random.random, float))


async def now(state: ExecutionState, key: str) -> datetime:
    value: datetime = await _recorded(state, key, "now", state.now, datetime)
    return value
