"""The engine: one invocation of one execution.

``Engine.start`` takes the lease (one conditional update) and loads the journal
(one query); ``Invocation.run`` replays the workflow coroutine and records the
outcome. Every finish is conditional on still holding the lease.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sdk import serde
from sdk.app import App
from sdk.cancellation import cancel_children
from sdk.clock import Clock, SystemClock
from sdk.context import WorkflowContext
from sdk.errors import Cancelled, ExecutionNotRunnableError, LeaseLost, SteplineError, Suspend
from sdk.execution import ExecutionState, JournalUnavailable
from sdk.failures import ErrorInfo
from sdk.ids import new_token
from sdk.journal.base import Journal
from sdk.journal.records import ExecutionRecord, ExecutionStatus, StepRecord, StepStatus
from sdk.timers import Timers

if TYPE_CHECKING:
    from sdk.client import Invoker

DEFAULT_LEASE = timedelta(minutes=15)
DEFAULT_DEADLINE_MARGIN = timedelta(seconds=3)


@dataclass(frozen=True)
class Outcome:
    """How an invocation ended.

    ``status`` is ``completed``, ``failed``, ``suspended``, ``skipped`` (the lease was
    refused) or ``lease_lost``; ``reinvoke`` asks for the next invocation at once.
    """

    execution_id: str
    status: str
    detail: str = ""
    reinvoke: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "execution_id": self.execution_id,
            "status": self.status,
            "detail": self.detail,
            "reinvoke": self.reinvoke,
        }


class Engine:
    """Runs executions of the workflows of one app against one journal."""

    def __init__(
        self,
        app: App,
        journal: Journal,
        clock: Clock | None = None,
        *,
        always_replay: bool = False,
        deadline_margin: timedelta = DEFAULT_DEADLINE_MARGIN,
        timers: Timers | None = None,
        invoker: Invoker | None = None,
    ) -> None:
        """Run executions of ``app`` on ``journal``.

        Args:
            always_replay: A test mode: suspend after every new step, then replay.
            deadline_margin: Start no new step closer than this to an invocation's
                deadline; suspend and re-invoke instead.
            timers: Where a suspended execution's wake-ups go (needed for waits).
            invoker: Starts children and resumes parents (needed for child workflows).
        """
        self.app = app
        self.journal = journal
        self.clock: Clock = clock or SystemClock()
        self.always_replay = always_replay
        self.deadline_margin = deadline_margin
        self.timers = timers
        self.invoker = invoker

    def start(
        self, execution_id: str, *, deadline: datetime | None = None, owner: str | None = None
    ) -> Invocation | Outcome:
        """Take the lease until ``deadline`` and load the journal; an ``Outcome`` if refused.

        ``owner`` names the invocation (the Lambda request id, which a retry of the same
        event keeps); a fresh token by default.
        """
        owner = owner or new_token()
        now = self.clock.now()
        try:
            execution = self.journal.acquire_lease(
                execution_id, owner=owner, now=now, expires_at=deadline or now + DEFAULT_LEASE
            )
        except ExecutionNotRunnableError as exc:
            return Outcome(execution_id, "skipped", str(exc))
        # Only lease holders record steps, and every lease taken bumps ``attempt``: on the
        # first attempt there is nothing to load, so a fresh start costs no read.
        steps = {} if execution.attempt == 1 else self.journal.load_steps(execution_id)
        state = ExecutionState(
            self.journal,
            self.clock,
            execution,
            steps,
            owner,
            always_replay=self.always_replay,
            deadline=None if deadline is None else deadline - self.deadline_margin,
            app=self.app,
            invoker=self.invoker,
        )
        return Invocation(self, state)

    async def run(
        self, execution_id: str, *, deadline: datetime | None = None, owner: str | None = None
    ) -> Outcome:
        """``start`` then ``run``: one whole invocation."""
        started = self.start(execution_id, deadline=deadline, owner=owner)
        return started if isinstance(started, Outcome) else await started.run()


class Invocation:
    """One leased run of an execution."""

    def __init__(self, engine: Engine, state: ExecutionState) -> None:
        self._engine = engine
        self.state = state

    @property
    def execution(self) -> ExecutionRecord:
        return self.state.execution

    async def run(self) -> Outcome:
        state = self.state
        try:
            try:
                result = await self._call_workflow()
                output = serde.dumps(result, what=f"the output of workflow {self._workflow_id!r}")
            except (LeaseLost, JournalUnavailable, Suspend, Cancelled):
                raise
            except Exception as exc:
                return self._finish(ExecutionStatus.FAILED, error=ErrorInfo.from_exception(exc))
            return self._finish(
                ExecutionStatus.COMPLETED, output=output, output_tag=serde.type_tag(result)
            )
        except Cancelled as cancelled:
            return self._cancel(str(cancelled))
        except Suspend as suspend:
            return self._suspend(suspend)
        except LeaseLost as lost:
            return Outcome(state.execution_id, "lease_lost", str(lost))
        except JournalUnavailable as unavailable:
            self._release()
            cause = unavailable.__cause__
            if isinstance(cause, Exception):
                raise cause from None  # the journal's own error, so the invocation is retried
            raise
        except BaseException:
            self._release()  # an escaping error: let a retry take over at once
            raise

    def _suspend(self, suspend: Suspend) -> Outcome:
        """Schedule the wake-ups and mark the execution suspended (or cancelled, if asked)."""
        state = self.state
        try:
            self._schedule_wake_ups()
        except BaseException:
            self._release()
            raise
        try:
            state.journal.suspend_execution(state.execution_id, owner=state.owner)
        except LeaseLost as lost:  # another invocation took over meanwhile
            return Outcome(state.execution_id, "lease_lost", str(lost))
        except Cancelled as cancelled:  # requested while we ran: its timers find it cancelled
            return self._cancel(str(cancelled))
        reinvoke = suspend.reinvoke or self._child_reported_meanwhile()
        return Outcome(state.execution_id, "suspended", suspend.reason, reinvoke)

    def _child_reported_meanwhile(self) -> bool:
        """Did a child we wait on report while we still held the lease?

        Its invocation of this execution then found the lease taken and did nothing, so
        read the journal once more, after suspending, and resume at once if so.
        """
        waiting = [key for key, wake_at in self.state.blocked.items() if wake_at is None]
        if not waiting:
            return False
        arrived = self.state.journal.load_steps(self.state.execution_id)
        return any(key in arrived for key in waiting)

    def _schedule_wake_ups(self) -> None:
        """Hand every timed wait's wake-up to the timer service (before suspending)."""
        state = self.state
        timed = {key: at for key, at in state.blocked.items() if at is not None}
        if not timed:
            return
        timers = self._engine.timers
        if timers is None:
            raise SteplineError(
                f"execution {state.execution_id!r} waits on {', '.join(sorted(timed))} "
                "but this engine has no timer service to wake it"
            )
        for key, wake_at in timed.items():
            timers.schedule(state.execution_id, key, wake_at)

    @property
    def _workflow_id(self) -> str:
        return self.state.execution.workflow_id

    async def _call_workflow(self) -> Any:
        if self.state.execution.cancel_requested:
            raise Cancelled(f"execution {self.state.execution_id!r} was cancelled")
        workflow = self._engine.app.get(self._workflow_id)
        payload = workflow.decode_input(self.state.execution.input)
        return await workflow(WorkflowContext.for_state(self.state), payload)

    def _finish(self, status: ExecutionStatus, **outcome: Any) -> Outcome:
        state = self.state
        self._report_to_parent(status, outcome)
        state.journal.finish_execution(
            state.execution_id, owner=state.owner, status=status, now=state.now(), **outcome
        )
        error = outcome.get("error")
        detail = "" if error is None else f"{error.type_name}: {error.message}"
        return Outcome(state.execution_id, status.value, detail)

    def _cancel(self, reason: str) -> Outcome:
        """Record the execution as cancelled and cancel what it started."""
        state = self.state
        try:
            state.journal.finish_execution(
                state.execution_id, owner=state.owner, status=ExecutionStatus.CANCELLED,
                now=state.now(),
            )  # fmt: skip
        except LeaseLost as lost:
            return Outcome(state.execution_id, "lease_lost", str(lost))
        cancel_children(state.journal, state.execution_id, state.now())
        return Outcome(state.execution_id, "cancelled", reason)

    def _report_to_parent(self, status: ExecutionStatus, outcome: dict[str, Any]) -> None:
        """A child started by ``..._and_wait``: write the outcome into the parent's journal,
        then resume the parent. Both are safe to repeat, and both happen before this
        execution is marked finished, so a crash in between is repaired by a retry."""
        execution = self.state.execution
        parent, key = execution.parent_execution_id, execution.parent_step_key
        if parent is None or key is None:
            return
        failed = status is ExecutionStatus.FAILED
        now = self.state.now()
        report = StepRecord(
            key, "invoke_and_wait", execution.workflow_id,
            StepStatus.FAILED if failed else StepStatus.COMPLETED,
            output=json.dumps(execution.execution_id) if failed else outcome.get("output"),
            output_tag=None if failed else outcome.get("output_tag"),
            error=outcome.get("error"), started_at=execution.created_at, finished_at=now,
        )  # fmt: skip
        self.state.journal.record_step(parent, report)
        if self._engine.invoker is not None:
            self._engine.invoker.invoke_async(parent)

    def _release(self) -> None:
        try:
            self.state.journal.release_lease(self.state.execution_id, owner=self.state.owner)
        except Exception:
            pass  # best effort: the lease expires by itself at the invocation's deadline
