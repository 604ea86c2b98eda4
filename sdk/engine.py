"""The engine: one invocation of one execution.

``Engine.start`` takes the lease (one conditional update) and loads the journal
(one query); ``Invocation.run`` replays the workflow coroutine and records the
outcome. Every finish is conditional on still holding the lease; a suspension is
also conditional on no wake-up having arrived since the journal was loaded, and
when one did the invocation replays again instead (see DESIGN section 3).

An execution resumed past its lifetime (``sdk.journal.retention``) fails with
``stepline:LifetimeExceeded`` instead of running; a suspended one is due for the sweeper
by then at the latest, so none outlives its lifetime unseen.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sdk import serde
from sdk.app import App
from sdk.cancellation import cancel_children
from sdk.clock import Clock, SystemClock
from sdk.context import WorkflowContext
from sdk.delivery import deliver_outcome
from sdk.errors import (
    Cancelled,
    ExecutionNotRunnableError,
    InvalidPayloadError,
    LeaseBusyError,
    LeaseLost,
    Park,
    SteplineError,
    Suspend,
    WokenUp,
    WorkflowNotFoundError,
)
from sdk.events.feeds import BatchFeed
from sdk.events.log import TopicLog
from sdk.events.publisher import Publisher, log_for
from sdk.execution import ExecutionState, InfrastructureFailure
from sdk.failures import ErrorInfo
from sdk.ids import new_token
from sdk.journal.base import Journal
from sdk.journal.records import ExecutionRecord, ExecutionStatus, StepRecord, StepStatus, iso
from sdk.sweeper import MAX_DEAD_INVOCATIONS, REPORT_GRACE, TIMER_GRACE
from sdk.timers import Timers

if TYPE_CHECKING:
    from sdk.client import Invoker

DEFAULT_LEASE = timedelta(minutes=15)
DEFAULT_DEADLINE_MARGIN = timedelta(seconds=3)
DIED_TYPE = "stepline:InvocationsDied"
LIFETIME_TYPE = "stepline:LifetimeExceeded"


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


_SIGNALS = (InfrastructureFailure, LeaseLost, Suspend, Cancelled, Park)


def _engine_signal(exc: BaseException) -> BaseException | None:
    """The engine's own signal inside an exception group (``TaskGroup`` wraps what its
    tasks raise), or ``exc`` itself if it is one; ``None`` for the workflow's errors."""
    if isinstance(exc, _SIGNALS):
        return exc
    if isinstance(exc, BaseExceptionGroup):
        for inner in exc.exceptions:
            found = _engine_signal(inner)
            if found is not None:
                return found
    return None


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
        topics: TopicLog | None = None,
        batches: BatchFeed | None = None,
        live_steps: bool = False,
    ) -> None:
        """Run executions of ``app`` on ``journal``.

        Args:
            always_replay: A test mode: suspend after every new step, then replay.
            deadline_margin: Start no new step closer than this to an invocation's
                deadline; suspend and re-invoke instead.
            timers: Where a suspended execution's wake-ups go (needed for waits).
            invoker: Starts children and resumes parents (needed for child workflows).
            topics: The topic log of ``publish_event`` and ``wait_for_event`` (by default
                the one beside ``journal``).
            batches: The queues of batched workflows (needed to publish to their topics).
            live_steps: Mark each step's start in the journal beside its body (one more
                small write per step, off the critical path) so lifecycle streams show a
                step while it runs; without it a step's start is known at its end.
        """
        self.app = app
        self.journal = journal
        self.clock: Clock = clock or SystemClock()
        self.always_replay = always_replay
        self.deadline_margin = deadline_margin
        self.timers = timers
        self.invoker = invoker
        self._topics = topics
        self.batches = batches
        self.live_steps = live_steps

    @property
    def publisher(self) -> Publisher | None:
        """Publishes events for the workflows this engine runs (none without a topic log)."""
        if self._topics is None:
            self._topics = log_for(self.journal, self.clock)
        if self._topics is None:
            return None
        return Publisher(
            self.app, self.journal, self._topics, self.invoker, self.clock, self.batches
        )

    def start(
        self, execution_id: str, *, deadline: datetime | None = None, owner: str | None = None
    ) -> Invocation | Outcome:
        """Take the lease until ``deadline`` and load the journal; an ``Outcome`` if refused.

        ``owner`` names this invocation; it must be unique to it (a fresh token by
        default). When another live invocation holds the lease, a wake-up is recorded
        instead, so that invocation replays before it may suspend.
        """
        owner = owner or new_token()
        now = self.clock.now()
        expires_at = deadline or now + DEFAULT_LEASE
        execution = self._acquire(execution_id, owner, now, expires_at)
        if isinstance(execution, Outcome):
            return execution
        try:
            return self._prepare(execution, owner, deadline)
        except LeaseLost as lost:
            return Outcome(execution_id, "lease_lost", str(lost))
        except BaseException:  # e.g. a throttled load: give the lease back for the retry
            self._release(execution_id, owner)
            raise

    def _prepare(
        self, execution: ExecutionRecord, owner: str, deadline: datetime | None
    ) -> Invocation:
        """Count a dead predecessor, load the journal: the invocation, ready to run."""
        execution_id = execution.execution_id
        previous = execution.previous_owner
        if previous is not None and previous != owner:  # its holder died without releasing
            dead = execution.dead_invocations + 1
            self.journal.note_dead_invocations(execution_id, owner=owner, count=dead)
            execution = execution.evolve(dead_invocations=dead)
        # Only lease holders record steps, and every lease taken bumps ``attempt``: on the
        # first attempt there is nothing to load, so a fresh start costs no read.
        steps = {} if execution.attempt == 1 else self.journal.load_steps(execution_id)
        self._keep_suspension(execution, steps)
        execution = self.journal.load_values(execution)  # a long input: one read
        stop_at = None if deadline is None else deadline - self.deadline_margin
        return Invocation(self, self._state(execution, steps, owner, stop_at))

    def _keep_suspension(self, execution: ExecutionRecord, steps: dict[str, StepRecord]) -> None:
        """Resumed after a suspension: record it (with the resumption's time) in a record of
        its own before the run can suspend again and the item forget it, so its lifecycle
        events (``sdk.lifecycle``) never change. One small write per resumption."""
        suspension, resumed_at = execution.suspension, execution.resumed_at
        if suspension is None or resumed_at is None or suspension.record_key in steps:
            return
        record = StepRecord(
            suspension.record_key, "suspension", suspension.kind, StepStatus.COMPLETED,
            started_at=suspension.at, finished_at=resumed_at, position=-1,
        )  # fmt: skip
        steps[record.key] = self.journal.record_step(
            execution.execution_id, record, now=self.clock.now()
        )

    def _release(self, execution_id: str, owner: str) -> None:
        try:
            self.journal.release_lease(execution_id, owner=owner)
        except Exception:
            pass  # best effort: the lease expires by itself at the invocation's deadline

    def _acquire(
        self, execution_id: str, owner: str, now: datetime, expires_at: datetime
    ) -> ExecutionRecord | Outcome:
        for _ in range(3):
            try:
                return self.journal.acquire_lease(
                    execution_id, owner=owner, now=now, expires_at=expires_at
                )
            except LeaseBusyError as busy:
                woken = self.journal.wake(execution_id)
                # Its holder sees the wake-up and replays, unless it let go meanwhile: then
                # this invocation (a timer's, say) runs it itself.
                let_go = woken.lease_owner is None and not woken.status.finished
                if not (let_go or woken.needs_invocation):
                    return Outcome(execution_id, "skipped", f"{busy}; wake-up recorded")
            except ExecutionNotRunnableError as exc:
                return Outcome(execution_id, "skipped", str(exc))
        return Outcome(execution_id, "skipped", "the lease kept changing hands; wake-up recorded")

    def _state(
        self,
        execution: ExecutionRecord,
        steps: dict[str, StepRecord],
        owner: str,
        stop_at: datetime | None,
    ) -> ExecutionState:
        """The state of one run; no new step starts past ``stop_at``."""
        return ExecutionState(
            self.journal,
            self.clock,
            execution,
            steps,
            owner,
            always_replay=self.always_replay,
            live_steps=self.live_steps,
            deadline=stop_at,
            app=self.app,
            invoker=self.invoker,
            publisher=self.publisher,
        )

    async def run(
        self, execution_id: str, *, deadline: datetime | None = None, owner: str | None = None
    ) -> Outcome:
        """``start`` then ``run``: one whole invocation."""
        started = self.start(execution_id, deadline=deadline, owner=owner)
        return started if isinstance(started, Outcome) else await started.run()


class Invocation:
    """One leased run of an execution: replays until it finishes or may suspend."""

    def __init__(self, engine: Engine, state: ExecutionState) -> None:
        self._engine = engine
        self.state = state
        self.replays = 1

    @property
    def execution(self) -> ExecutionRecord:
        return self.state.execution

    async def run(self) -> Outcome:
        """Run the workflow; when a wake-up arrived before it could suspend, replay it
        with what arrived (still holding the lease), or near the deadline hand over to a
        fresh invocation."""
        while True:
            try:
                return await self._run_once()
            except WokenUp as woken:
                state = self.state
                if state.deadline is not None and state.now() >= state.deadline:
                    self._release()
                    return Outcome(state.execution_id, "suspended", "woken near the deadline",
                                   reinvoke=True)  # fmt: skip
                try:
                    steps = state.journal.load_steps(state.execution_id)
                except BaseException:
                    self._release()
                    raise
                execution = state.execution.evolve(wakeups=woken.wakeups)
                self.state = self._engine._state(execution, steps, state.owner, state.deadline)
                self.replays += 1

    async def _run_once(self) -> Outcome:
        state = self.state
        try:
            return await self._complete()
        except (Suspend, Cancelled, Park) as caught:
            signal = state.halted_by or caught  # the first signal, whatever user code did
            await state.settle()  # in-flight steps finish and are recorded first
            if isinstance(signal, Cancelled):
                return self._cancel(str(signal))
            if isinstance(signal, Park):
                return self._park(signal)
            return self._suspend(signal)
        except LeaseLost as lost:
            return Outcome(state.execution_id, "lease_lost", str(lost))
        except InfrastructureFailure as unavailable:
            self._release()
            cause = unavailable.__cause__
            if isinstance(cause, Exception):
                raise cause from None  # the AWS error itself, so the invocation is retried
            raise
        except WokenUp:
            raise
        except BaseException:
            self._release()  # an escaping error: let a retry take over at once
            raise

    async def _complete(self) -> Outcome:
        """Run the workflow to its end and record the outcome (signals propagate).

        A run the engine halted (to suspend, or cancelled) ends that way however the
        workflow code ended: catching the signal, ``gather(return_exceptions=True)`` or a
        ``finally`` cannot turn it into a completion or a failure.
        """
        state = self.state
        if state.execution.dead_invocations >= MAX_DEAD_INVOCATIONS:
            return self._finish(ExecutionStatus.FAILED, error=self._died())
        if state.journal.retention.exceeded(state.execution.created_at, state.now()):
            return self._finish(ExecutionStatus.FAILED, error=self._past_lifetime())
        try:
            result = await self._workflow_or_halt()
            output = serde.dumps(
                result,
                what=f"the output of workflow {self._workflow_id!r}",
                limit=state.journal.max_value_bytes,
            )
        except BaseException as exc:
            self._raise_if_halted()
            signal = _engine_signal(exc)  # one a TaskGroup wrapped in a group, say
            if signal is not None:
                raise signal from signal.__cause__  # keeps the AWS error behind it
            if not isinstance(exc, Exception):
                raise
            await state.settle()  # the workflow's own error: recorded, the execution fails
            return self._finish(ExecutionStatus.FAILED, error=ErrorInfo.from_exception(exc))
        self._raise_if_halted()
        await state.settle()
        return self._finish(
            ExecutionStatus.COMPLETED, output=output, output_tag=serde.type_tag(result)
        )

    async def _workflow_or_halt(self) -> Any:
        """The workflow's result, unless the run is halted first: a halt in one branch
        (a detached task, say) may leave the workflow's main coroutine parked for good,
        so the engine does not wait for it."""
        main = asyncio.ensure_future(self._call_workflow())
        halted = asyncio.ensure_future(self.state.halted.wait())
        try:
            await asyncio.wait({main, halted}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            halted.cancel()
        if not main.done():
            self._raise_if_halted()
        return main.result()

    def _raise_if_halted(self) -> None:
        signal = self.state.halted_by
        if signal is not None:
            raise signal

    def _died(self) -> ErrorInfo:
        count = self.state.execution.dead_invocations
        return ErrorInfo(
            DIED_TYPE,
            f"{count} invocations died while running this execution (Lambda timeout, "
            "out of memory or a crashed process) without recording their outcome",
        )

    def _past_lifetime(self) -> ErrorInfo:
        state = self.state
        retention, created = state.journal.retention, state.execution.created_at
        return ErrorInfo(
            LIFETIME_TYPE,
            f"execution {state.execution_id!r} was created at {iso(created)} and may run for "
            f"at most {retention.lifetime} (the stack's maximum lifetime, "
            f"STEPLINE_MAX_LIFETIME_DAYS): it was resumed at {iso(state.now())}, after its "
            f"lifetime ended at {iso(retention.lifetime_end(created))}",
        )

    def _suspend(self, suspend: Suspend) -> Outcome:
        """Schedule the wake-ups, then mark the execution suspended unless a wake-up came.

        Raises ``WokenUp`` when one came: the invocation replays instead.
        """
        state = self.state
        try:
            due_at = self._by_lifetime_end(self._schedule_wake_ups(suspend.reinvoke))
            state.journal.suspend_execution(
                state.execution_id,
                owner=state.owner,
                seen_wakeups=state.execution.wakeups,
                wake_need=state.execution.wakeups + state.wake_need(),
                due_at=due_at,
                suspension=None if suspend.reinvoke else state.suspension(),
            )
        except LeaseLost as lost:  # another invocation took over meanwhile
            return Outcome(state.execution_id, "lease_lost", str(lost))
        except Cancelled as cancelled:  # requested while we ran: its timers find it cancelled
            return self._cancel(str(cancelled))
        except WokenUp:
            raise
        except BaseException:
            self._release()
            raise
        return Outcome(state.execution_id, "suspended", suspend.reason, suspend.reinvoke)

    def _schedule_wake_ups(self, reinvoke: bool) -> datetime | None:
        """Hand every timed wait's wake-up to the timer service; returns when the sweeper
        should look if none came (``None`` when only child outcomes can wake it)."""
        state = self.state
        timed = {key: at for key, at in state.blocked.items() if at is not None}
        if reinvoke:
            return state.now() + TIMER_GRACE
        if not timed:
            return None
        timers = self._engine.timers
        if timers is None:
            raise SteplineError(
                f"execution {state.execution_id!r} waits on {', '.join(sorted(timed))} "
                "but this engine has no timer service to wake it"
            )
        for key, wake_at in timed.items():
            timers.schedule(state.execution_id, key, wake_at)
        return min(timed.values()) + TIMER_GRACE

    def _by_lifetime_end(self, due_at: datetime | None) -> datetime:
        """``due_at``, or the end of the lifetime if sooner (or if nothing else is due):
        then the sweeper resumes an execution nothing else would, and it fails."""
        state = self.state
        end = state.journal.retention.lifetime_end(state.execution.created_at) + TIMER_GRACE
        return end if due_at is None else min(due_at, end)

    @property
    def _workflow_id(self) -> str:
        return self.state.execution.workflow_id

    async def _call_workflow(self) -> Any:
        state = self.state
        if state.execution.cancel_requested:
            state.halt(Cancelled(f"execution {state.execution_id!r} was cancelled"))
        try:  # a deployment that lost the workflow or changed its input type: park
            workflow = self._engine.app.get(self._workflow_id)
            payload = workflow.decode_input(state.execution.input)
        except (WorkflowNotFoundError, InvalidPayloadError) as missing:
            state.halt(Park(missing))
        return await workflow(WorkflowContext.for_state(state), payload)

    def _park(self, signal: Park) -> Outcome:
        """Park the execution with the reason; ``stepline resume`` runs it again."""
        state = self.state
        error = ErrorInfo.from_exception(signal.cause)
        try:
            state.journal.park_execution(
                state.execution_id, owner=state.owner, error=error, now=state.now()
            )
        except LeaseLost as lost:
            return Outcome(state.execution_id, "lease_lost", str(lost))
        return Outcome(state.execution_id, "parked", f"{error.type_name}: {error.message}")

    def _finish(self, status: ExecutionStatus, **outcome: Any) -> Outcome:
        """Record the outcome, then deliver it to a waiting parent (see ``sdk.delivery``)."""
        state = self.state
        now = state.now()
        # A waited-on child stays on the sweeper's list until its report is delivered.
        due_at = now + REPORT_GRACE if state.execution.parent_step_key is not None else None
        state.journal.finish_execution(
            state.execution_id, owner=state.owner, status=status, now=now, due_at=due_at,
            **outcome,
        )  # fmt: skip
        final = state.execution.evolve(
            status=status, finished_at=now, due_at=due_at, lease_owner=None, **outcome
        )
        deliver_outcome(state.journal, self._engine.invoker, final, now=now)
        error = outcome.get("error")
        detail = "" if error is None else f"{error.type_name}: {error.message}"
        return Outcome(state.execution_id, status.value, detail)

    def _cancel(self, reason: str) -> Outcome:
        """Record the execution as cancelled and cancel what it started."""
        try:
            outcome = self._finish(ExecutionStatus.CANCELLED)
        except LeaseLost as lost:
            return Outcome(self.state.execution_id, "lease_lost", str(lost))
        state = self.state
        cancel_children(state.journal, state.execution_id, state.now(), self._engine.invoker)
        return Outcome(outcome.execution_id, outcome.status, reason)

    def _release(self) -> None:
        self._engine._release(self.state.execution_id, self.state.owner)
