"""The state of one invocation of one execution, shared by the step operations.

It holds the journal loaded at the start, the keys used so far, and the lease;
``begin`` applies the replay decision and ``record`` makes the one write a step costs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sdk.clock import Clock
from sdk.errors import SteplineError, Suspend
from sdk.journal.base import Journal
from sdk.journal.records import ExecutionRecord, StepRecord
from sdk.replay import StepCall, decide


class JournalUnavailable(BaseException):  # noqa: N818 - a control-flow signal
    """Signal: a journal write failed for a reason other than a lost race.

    Derives from ``BaseException`` so workflow code cannot swallow it; the engine
    gives the lease back and re-raises the cause so the invocation is retried.
    """


@dataclass
class ExecutionState:
    journal: Journal
    clock: Clock
    execution: ExecutionRecord
    steps: dict[str, StepRecord]
    owner: str
    always_replay: bool = False
    deadline: datetime | None = None  # stop starting new steps past this moment
    used_keys: dict[str, int] = field(default_factory=dict)  # key -> position

    @property
    def execution_id(self) -> str:
        return self.execution.execution_id

    def now(self) -> datetime:
        return self.clock.now()

    def begin(self, call: StepCall) -> StepRecord | None:
        """Claim ``call.key`` and return its record to replay, or ``None`` to run it."""
        record = decide(call, self.steps.get(call.key), self.used_keys.keys())
        self.used_keys[call.key] = len(self.used_keys)
        return record

    def position(self, key: str) -> int:
        """Where ``key`` stands in the order the workflow called its steps."""
        return self.used_keys[key]

    def record(self, step: StepRecord) -> StepRecord:
        """Write ``step`` (once, conditionally) and return the record that won."""
        try:
            stored = self.journal.record_step(self.execution_id, step)
        except SteplineError:
            raise
        except Exception as exc:
            raise JournalUnavailable(f"cannot record step {step.key!r}: {exc}") from exc
        self.steps[step.key] = stored
        return stored

    def before_new_step(self) -> None:
        """Called before a step runs for the first time: past the deadline, stop here.

        The invocation then suspends at this step boundary and asks to be re-invoked at
        once, so a long workflow continues in a fresh invocation instead of being killed
        by the Lambda timeout mid-step.
        """
        if self.deadline is not None and self.clock.now() >= self.deadline:
            raise Suspend("time limit: continuing in a new invocation", reinvoke=True)

    def after_new_step(self) -> None:
        """Called after a step ran for the first time: the always-replay mode stops here."""
        if self.always_replay:
            raise Suspend("always-replay: suspend after every new step", reinvoke=True)
