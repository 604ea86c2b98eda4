"""The state of one invocation of one execution, shared by the step operations.

It holds the journal loaded at the start, the keys used so far, and the lease;
``begin`` applies the replay decision and ``record`` makes the one write a step costs.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, NoReturn

from sdk.clock import Clock
from sdk.errors import Cancelled, NonDeterministicError, Park, SteplineError, Suspend
from sdk.journal.base import Journal
from sdk.journal.records import RUNNING, ExecutionRecord, StepRecord, StepStatus, Suspension
from sdk.replay import SLOT, StepCall, decide

if TYPE_CHECKING:
    from sdk.app import App
    from sdk.client import Invoker
    from sdk.events.publisher import Publisher


CANCEL_CHECK_INTERVAL = timedelta(seconds=1)
_log = logging.getLogger(__name__)


class InfrastructureFailure(BaseException):  # noqa: N818 - a control-flow signal
    """Signal: one of the engine's own AWS calls failed (after botocore's retries).

    Derives from ``BaseException`` so workflow code never sees it; the engine gives
    the lease back and re-raises the cause, so the invocation fails and is retried.
    """


Halt = Suspend | Cancelled | Park


def _has_ready(loop: asyncio.AbstractEventLoop) -> bool:
    """Is a callback (a task step) waiting to run in this loop's current or next turn?"""
    ready = getattr(loop, "_ready", None)
    return bool(ready)


def _next_timer(loop: asyncio.AbstractEventLoop) -> float | None:
    """When the loop's earliest live timer fires (loop time), or None if it has none."""
    scheduled = getattr(loop, "_scheduled", ())
    live = [handle.when() for handle in scheduled if not handle.cancelled()]
    return min(live, default=None)


def _again(signal: Halt) -> Halt:
    """A fresh copy of a halting signal, to raise in another branch."""
    if isinstance(signal, Suspend):
        return Suspend(signal.reason, reinvoke=signal.reinvoke)
    if isinstance(signal, Park):
        return Park(signal.cause)
    return Cancelled(*signal.args)


@dataclass
class ExecutionState:
    journal: Journal
    clock: Clock
    execution: ExecutionRecord
    steps: dict[str, StepRecord]
    owner: str
    always_replay: bool = False
    live_steps: bool = False  # mark a step's start in the journal (live lifecycle events)
    deadline: datetime | None = None  # stop starting new steps past this moment
    app: App | None = None  # the workflows children may be started from
    invoker: Invoker | None = None  # starts children and resumes parents
    publisher: Publisher | None = None  # publishes events, knows the topic log
    used_keys: dict[str, int] = field(default_factory=dict)  # key -> position
    # What the branches of the workflow are doing, to know when all of them are waiting.
    in_flight: int = 0  # operations executing right now (a step body, a journal write)
    # waits: key -> wake-up time, or None for a wait on a child's outcome
    blocked: dict[str, datetime | None] = field(default_factory=dict)
    # outstanding child reports of each branch waiting on children
    child_waits: list[int] = field(default_factory=list)
    other_waits: int = 0  # branches waiting on a time or an event, not on children
    watching: bool = False  # a blocked branch is watching for the moment to suspend
    halted_by: Halt | None = None  # the signal that stopped this run
    new_steps: int = 0  # steps started for the first time in this invocation
    retry_index: dict[str, int] | None = None  # step key -> its latest recorded retry
    cancel_checked_at: datetime | None = None
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    halted: asyncio.Event = field(default_factory=asyncio.Event)  # set with ``halted_by``

    @property
    def suspending(self) -> bool:
        """The run is halted: it is stopping to suspend, park or cancel."""
        return self.halted_by is not None

    @property
    def execution_id(self) -> str:
        return self.execution.execution_id

    def now(self) -> datetime:
        return self.clock.now()

    def begin(self, call: StepCall) -> StepRecord | None:
        """Claim ``call.key`` and return its record to replay, or ``None`` to run it.

        Once the run is halted (it suspends, or is cancelled) no operation gets this far:
        the halting signal is raised again, so nothing starts and nothing is written,
        whatever the workflow does with the signal.
        """
        if self.halted_by is not None:
            raise _again(self.halted_by)
        try:
            record = decide(call, self.steps.get(call.key), self.used_keys.keys())
        except NonDeterministicError as changed:  # the deployed code differs: park
            self.halt(Park(changed))
        self.used_keys[call.key] = len(self.used_keys)
        return record

    def started(self) -> None:
        """An operation began executing (not replaying)."""
        self.in_flight += 1

    def stopped(self) -> None:
        """An operation finished executing, successfully or not."""
        self.in_flight -= 1
        self.changed.set()

    def halt(self, signal: Halt) -> NoReturn:
        """Stop the run here: from now on no step starts and nothing is written for the
        workflow but its suspension or cancellation (the first signal wins)."""
        if self.halted_by is None:
            self.halted_by = signal
            self.halted.set()
        raise signal

    async def settle(self) -> None:
        """Wait until no operation is executing (in-flight steps finish and are recorded)."""
        while self.in_flight > 0:
            self.changed.clear()
            await self.changed.wait()

    @contextmanager
    def infrastructure(self, what: str) -> Iterator[None]:
        """Around the engine's own AWS calls: their failures never reach workflow code."""
        try:
            yield
        except SteplineError:
            raise
        except Exception as exc:
            raise InfrastructureFailure(f"{what}: {exc}") from exc

    def suspension(self) -> Suspension:
        """This invocation's suspension on its waits, as the execution item keeps it."""
        kind = "children" if self.child_waits and not self.other_waits else "wait"
        return Suspension(self.now(), kind, self.execution.attempt)

    def wake_need(self) -> int:
        """How many wake-ups must arrive before a run may get further: the fewest child
        reports any waiting branch still needs (a timer wakes the runner by itself)."""
        return min(self.child_waits, default=1)

    async def block(self, key: str, wake_at: datetime | None, *, reports: int = 0) -> NoReturn:
        """Park this branch on a wait; suspend once every branch is done or waiting.

        ``reports`` is how many child outcomes the branch waits for. The first branch to
        block watches the event loop (``_until_quiet``) and halts the run with ``Suspend``
        once nothing else can happen; every other branch just parks.
        """
        self.blocked[key] = wake_at
        if reports:
            self.child_waits.append(reports)
        else:
            self.other_waits += 1
        if not self.watching and not self.suspending:
            self.watching = True
            await self._until_quiet()
            if not self.suspending:
                self.halt(Suspend(f"waiting on {', '.join(sorted(self.blocked))}"))
        await asyncio.get_running_loop().create_future()  # parked for good
        raise AssertionError("a parked branch never resumes")

    async def _until_quiet(self) -> None:
        """Return once no branch can run: no step executing, nothing ready to run in the
        event loop, no timer pending in it (a branch in ``asyncio.sleep``). Decided from the
        loop's own state, not from counting its turns, so a branch busy with non-step
        awaits (a ``sleep(0)`` loop, gathers nested deep) is never cut short."""
        loop = asyncio.get_running_loop()
        while not self.suspending:
            await asyncio.sleep(0)
            if self.in_flight > 0:  # a step body runs (in a thread): it wakes us when done
                self.changed.clear()
                await self.changed.wait()
                continue
            if _has_ready(loop):
                continue
            pending = _next_timer(loop)
            if pending is None:
                return
            await asyncio.sleep(max(0.0, pending - loop.time()))  # a branch sleeps: let it

    def position(self, key: str) -> int:
        """Where ``key`` stands in the order the workflow called its steps."""
        return self.used_keys[key]

    def record(self, step: StepRecord) -> StepRecord:
        """Write ``step`` (once, conditionally) and return the record that won."""
        with self.infrastructure(f"cannot record step {step.key!r}"):
            stored = self.journal.record_step(self.execution_id, step, now=self.clock.now())
        self.steps[step.key] = stored
        return stored

    def mark_running(self, key: str, callable_name: str, at: datetime) -> asyncio.Task[None] | None:
        """Write ``key``'s start marker (``key\x1frunning``) beside the step's body, so a
        lifecycle stream sees the step start while it runs; ``None`` when steps do not
        stream live or a previous invocation marked it. Best effort: a lost marker only
        makes the step's start known at its end, and must not fail a step whose body ran.
        """
        slot = f"{key}{SLOT}{RUNNING}"
        if not self.live_steps or slot in self.steps:
            return None
        marker = StepRecord(
            slot, RUNNING, callable_name, StepStatus.WAITING,
            started_at=at, position=self.position(key),
        )  # fmt: skip

        def write() -> None:
            try:
                self.journal.record_step(self.execution_id, marker, now=at)
            except Exception as exc:
                _log.warning("start marker of step %r not written: %s", key, exc)

        return asyncio.create_task(asyncio.to_thread(write))

    def before_new_step(self) -> None:
        """Called before a step runs for the first time: past the deadline, stop here.

        The invocation then suspends at this step boundary and asks to be re-invoked at
        once, so a long workflow continues in a fresh invocation instead of being killed
        by the Lambda timeout mid-step.
        """
        now = self.clock.now()
        # At least one new step per invocation, however little time it was given, so a
        # runner whose timeout is shorter than the margin still makes progress.
        if self.deadline is not None and now >= self.deadline and self.new_steps > 0:
            self.halt(Suspend("time limit: continuing in a new invocation", reinvoke=True))
        self.new_steps += 1
        if self.cancel_checked_at is None:
            self.cancel_checked_at = now
        elif now - self.cancel_checked_at >= CANCEL_CHECK_INTERVAL:
            self.check_cancelled()

    def check_cancelled(self) -> None:
        """Read the execution item; raise ``Cancelled`` if cancellation was requested.

        Called at step boundaries at most once per ``CANCEL_CHECK_INTERVAL``, so a fast
        workflow pays no read per step.
        """
        self.cancel_checked_at = self.clock.now()
        with self.infrastructure("cannot check for a cancellation request"):
            current = self.journal.get_execution(self.execution_id)
        if current.cancel_requested:
            self.halt(Cancelled(f"execution {self.execution_id!r} was cancelled"))

    def after_new_step(self) -> None:
        """Called after a step ran for the first time: the always-replay mode stops here."""
        if self.always_replay:
            self.halt(Suspend("always-replay: suspend after every new step", reinvoke=True))
