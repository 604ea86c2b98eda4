"""``WorkflowContext`` and ``ctx.step``: the thin surface workflow code calls.

Each ``ctx.step`` method names an operation and hands off to its module in
``sdk.operations`` (``sdk.events`` for events); no durable logic lives here.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ParamSpec, TypeVar, overload

from sdk.events import steps as event_steps
from sdk.events.steps import PublishedEvent
from sdk.execution import ExecutionState
from sdk.operations import children, deterministic, emit, wait
from sdk.operations.run import run_step
from sdk.payloads import EventPayload
from sdk.workflow import Workflow

P = ParamSpec("P")
R = TypeVar("R")


class StepApi:
    """The durable operations of one execution: ``ctx.step``."""

    __slots__ = ("_state",)

    def __init__(self, state: ExecutionState) -> None:
        self._state = state

    @overload
    async def run(
        self, key: str, fn: Callable[P, Awaitable[R]], *args: P.args, **kwargs: P.kwargs
    ) -> R: ...

    @overload
    async def run(self, key: str, fn: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R: ...

    async def run(self, key: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run ``fn(*args, **kwargs)`` once and record its result under ``key``.

        Keyword options (taken out of ``kwargs``): ``max_retries`` (default 2),
        ``base_delay`` (1.0 s) and ``max_delay`` (10.0 s) for exponential backoff.
        ``TerminalError`` is never retried. On replay the recorded result is returned
        (or the recorded error raised) without calling ``fn``.
        """
        max_retries = kwargs.pop("max_retries", 2)
        base_delay = kwargs.pop("base_delay", 1.0)
        max_delay = kwargs.pop("max_delay", 10.0)
        return await run_step(
            self._state, key, fn, args, kwargs,
            max_retries=max_retries, base_delay=base_delay, max_delay=max_delay,
        )  # fmt: skip

    async def wait_for(
        self,
        key: str,
        *,
        seconds: float = 0,
        minutes: float = 0,
        hours: float = 0,
        days: float = 0,
    ) -> None:
        """Wait this long (from the first time this step runs), holding no compute."""
        length = wait.duration(seconds, minutes, hours, days)
        await wait.wait(self._state, key, lambda now: now + length)

    async def wait_until(self, key: str, when: datetime) -> None:
        """Wait until ``when`` (timezone-aware), holding no compute."""
        await wait.wait(self._state, key, wait.until(when))

    async def invoke(
        self, key: str, workflow: Workflow[Any] | str, payload: Any = None
    ) -> children.ChildHandle:
        """Start a child workflow and go on (fire and forget); returns its handle."""
        return await children.invoke(self._state, key, workflow, payload)

    async def invoke_and_wait(
        self, key: str, workflow: Workflow[R] | str, payload: Any = None
    ) -> R:
        """Start a child workflow and wait for its result, holding no compute.

        Raises:
            ChildWorkflowFailedError: the child failed (its error is the ``__cause__``).
        """
        result: R = await children.invoke_and_wait(self._state, key, workflow, payload)
        return result

    async def batch_invoke(
        self, key: str, items: Sequence[tuple[Workflow[Any] | str, Any]]
    ) -> list[children.ChildHandle]:
        """Start several children, ``(workflow, payload)`` each, and go on."""
        return await children.batch_invoke(self._state, key, items)

    async def batch_invoke_and_wait(
        self, key: str, items: Sequence[tuple[Workflow[Any] | str, Any]]
    ) -> list[Any]:
        """Start several children and wait for all; results in input order.

        A failed child is a ``ChildWorkflowFailedError`` in its slot, not an exception.
        """
        return await children.batch_invoke_and_wait(self._state, key, items)

    async def publish_event(
        self, key: str, topic: str, data: dict[str, Any], event_type: str | None = None
    ) -> PublishedEvent:
        """Publish an event to ``topic`` (once, whatever retries and replays happen): it
        starts the workflows triggered by the topic and satisfies its waiters.

        Raises:
            InvalidEventError: a bad topic, or data that is not a JSON object or too large.
        """
        return await event_steps.publish_event(self._state, key, topic, data, event_type)

    async def wait_for_event(
        self, key: str, topic: str, timeout: float | timedelta | None = None
    ) -> EventPayload:
        """Wait, holding no compute, for an event on ``topic`` published after this
        execution started; each wait takes one event. ``timeout`` in seconds.

        Raises:
            EventWaitTimeoutError: no event came within ``timeout``.
        """
        return await event_steps.wait_for_event(self._state, key, topic, timeout)

    async def emit(self, key: str, message: str, data: dict[str, Any] | None = None) -> None:
        """Emit ``message`` (with optional JSON ``data``) into this execution's lifecycle
        stream as a ``workflow_message`` event, once: a replay does not emit it again.

        Raises:
            TypeError: ``message`` is not text or ``data`` not a dict.
            SerializationError: ``data`` is not JSON or too large for one record.
        """
        await emit.emit(self._state, key, message, data)

    async def uuid(self, key: str) -> str:
        """A random UUID (as text), the same on every replay."""
        return await deterministic.uuid(self._state, key)

    async def random(self, key: str) -> float:
        """A random float in [0, 1), the same on every replay."""
        return await deterministic.random(self._state, key)

    async def now(self, key: str) -> datetime:
        """The current time (UTC), the same on every replay."""
        return await deterministic.now(self._state, key)


@dataclass(frozen=True)
class WorkflowContext:
    """What a running workflow knows about itself, and its ``step`` operations."""

    execution_id: str
    workflow_id: str
    parent_execution_id: str | None
    root_execution_id: str
    user_id: str | None
    session_id: str | None
    created_at: datetime
    started_at: datetime
    attempt: int
    step: StepApi

    @classmethod
    def for_state(cls, state: ExecutionState) -> WorkflowContext:
        record = state.execution
        return cls(
            execution_id=record.execution_id,
            workflow_id=record.workflow_id,
            parent_execution_id=record.parent_execution_id,
            root_execution_id=record.root_id,
            user_id=record.user_id,
            session_id=record.session_id,
            created_at=record.created_at,
            started_at=record.started_at or record.created_at,
            attempt=record.attempt,
            step=StepApi(state),
        )
