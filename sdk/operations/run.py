"""``ctx.step.run``: call a function once, durably, with retries.

Sync callables run in a worker thread so parallel steps under ``asyncio.gather``
really overlap; async callables are awaited. A failure is retried with
exponential backoff (``base_delay * 2**n``, capped at ``max_delay``) up to
``max_retries`` times; ``TerminalError`` is never retried. The outcome, success
or final failure, is recorded once.

A delay of ``LONG_RETRY_SECONDS`` or more is not slept inside the invocation: the
failed attempt is recorded under ``key\x1fretry<n>`` (outside the user key space)
with its wake-up time, and the branch waits on a timer like ``wait_for``.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import json
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NoReturn

from sdk import serde
from sdk.errors import SerializationError, TerminalError
from sdk.execution import ExecutionState
from sdk.failures import ErrorInfo
from sdk.journal.records import MAX_TRIES_KEPT, StepRecord, StepStatus, Try, iso, parse_iso
from sdk.operations.base import perform
from sdk.replay import SLOT, StepCall, check_key

LONG_RETRY_SECONDS = 30.0
_NO_HINT = object()


class _RetryLater(Exception):  # noqa: N818 - internal signal, never reaches user code
    def __init__(self, slot: str, wake_at: datetime) -> None:
        super().__init__(slot)
        self.slot = slot
        self.wake_at = wake_at


def _recorded_retries(state: ExecutionState, key: str) -> tuple[int, StepRecord | None]:
    """Attempts already made in earlier invocations, and the latest one's record.

    Retry records are rare: the journal is scanned for them once per invocation, not at
    every step (which made a long workflow quadratic)."""
    if state.retry_index is None:
        state.retry_index = {}
        for k in state.steps:
            base, marker, number = k.rpartition(f"{SLOT}retry")
            if marker and number.isdigit():
                state.retry_index[base] = max(state.retry_index.get(base, 0), int(number))
    latest = state.retry_index.get(key, 0)
    if not latest:
        return 0, None
    return latest, state.steps[f"{key}{SLOT}retry{latest}"]


_return_hints: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()


def callable_name(fn: Callable[..., Any]) -> str:
    """The name a step's callable is recorded under (checked on replay)."""
    while isinstance(fn, functools.partial):
        fn = fn.func
    name = getattr(fn, "__qualname__", None)
    return name if isinstance(name, str) else type(fn).__qualname__


def return_annotation(fn: Callable[..., Any]) -> Any:
    """The callable's return annotation (cached), used to rebuild recorded values."""
    target = getattr(fn, "__func__", fn)
    try:
        hint = _return_hints.get(target, _NO_HINT)
    except TypeError:  # not weak-referenceable
        hint = _NO_HINT
        target = None
    if hint is _NO_HINT:
        try:
            hint = inspect.get_annotations(fn, eval_str=True).get("return")
        except Exception:  # unresolvable annotations: rebuild from the type tag instead
            hint = None
        if target is not None:
            _return_hints[target] = hint
    return hint


def _described(exc: BaseException) -> tuple[str, str]:
    """A failed attempt's error type and message, as its final record keeps them."""
    info = ErrorInfo.from_exception(exc)
    return info.type, info.message


def check_retry_options(max_retries: int, base_delay: float, max_delay: float) -> None:
    if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
        raise ValueError(f"max_retries must be a non-negative integer, got {max_retries!r}")
    if not base_delay >= 0:
        raise ValueError(f"base_delay must be >= 0, got {base_delay!r}")
    if not max_delay >= base_delay:
        raise ValueError(f"max_delay must be >= base_delay, got {max_delay!r}")


async def _call(fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    if inspect.iscoroutinefunction(fn):
        return await fn(*args, **kwargs)
    result = await asyncio.to_thread(fn, *args, **kwargs)
    if inspect.isawaitable(result):
        return await result
    return result


@dataclass(frozen=True)
class _Retries:
    max_retries: int
    base_delay: float
    max_delay: float

    def delay(self, attempt: int) -> float:
        """Seconds to wait after failed ``attempt`` (exponential, capped)."""
        return float(min(self.max_delay, self.base_delay * 2 ** (attempt - 1)))


@dataclass(frozen=True)
class _StepRun:
    """One first run (not a replay) of a ``run`` step: its attempts and their record."""

    state: ExecutionState
    key: str
    name: str
    fn: Callable[..., Any]
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    retries: _Retries

    async def execute(self) -> tuple[StepRecord, BaseException | None]:
        state, key = self.state, self.key
        started = state.now()
        attempt, latest = _recorded_retries(state, key)
        if latest is not None:
            wake_at = parse_iso(json.loads(latest.output or "null"))
            if state.now() < wake_at:  # woken early: wait on
                raise _RetryLater(latest.key, wake_at)
        marker = state.mark_running(key, self.name, started)
        try:
            return await self._attempts(started, attempt)
        finally:
            if marker is not None:  # written before the step's outcome, never after it
                await marker

    async def _attempts(
        self, started: datetime, attempt: int
    ) -> tuple[StepRecord, BaseException | None]:
        state, key, name = self.state, self.key, self.name
        tries: list[Try] = []
        while True:
            attempt += 1
            try:
                result = await _call(self.fn, self.args, self.kwargs)
                output = serde.dumps(
                    result, what=f"step {key!r}", limit=state.journal.max_value_bytes
                )
            except Exception as exc:
                retry = not isinstance(exc, TerminalError | SerializationError)
                if retry and attempt <= self.retries.max_retries:
                    delay = self.retries.delay(attempt)
                    if delay >= LONG_RETRY_SECONDS:
                        self._retry_later(exc, attempt, started, delay)
                    tries.append(Try(state.now(), *_described(exc)))
                    await state.clock.sleep(delay)
                    continue
                failed = StepRecord(
                    key, "run", name, StepStatus.FAILED,
                    error=ErrorInfo.from_exception(exc),
                    attempts=attempt, started_at=started, finished_at=state.now(),
                    position=state.position(key), tries=tuple(tries[-MAX_TRIES_KEPT:]),
                )  # fmt: skip
                return failed, exc
            done = StepRecord(
                key, "run", name, StepStatus.COMPLETED,
                output=output, output_tag=serde.type_tag(result),
                attempts=attempt, started_at=started, finished_at=state.now(),
                position=state.position(key), tries=tuple(tries[-MAX_TRIES_KEPT:]),
            )  # fmt: skip
            return done, None

    def _retry_later(
        self, exc: Exception, attempt: int, started: datetime, delay: float
    ) -> NoReturn:
        """Record failed ``attempt`` with its wake-up time and wait on a timer for it."""
        state, key = self.state, self.key
        wake_at = state.now() + timedelta(seconds=delay)
        slot = f"{key}{SLOT}retry{attempt}"
        if state.retry_index is not None:
            state.retry_index[key] = attempt
        state.record(StepRecord(
            slot, "retry", self.name, StepStatus.WAITING,
            output=json.dumps(iso(wake_at)), error=ErrorInfo.from_exception(exc),
            attempts=attempt, started_at=started, position=state.position(key),
        ))  # fmt: skip
        raise _RetryLater(slot, wake_at) from exc


async def run_step(
    state: ExecutionState,
    key: str,
    fn: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    *,
    max_retries: int,
    base_delay: float,
    max_delay: float,
) -> Any:
    check_retry_options(max_retries, base_delay, max_delay)
    name = callable_name(fn)
    call = StepCall(check_key(key), "run", name)
    run = _StepRun(state, key, name, fn, args, kwargs, _Retries(max_retries, base_delay, max_delay))
    try:
        return await perform(state, call, run.execute, return_annotation(fn))
    except _RetryLater as later:  # outside the operation's in-flight bracket, so it can park
        await state.block(later.slot, later.wake_at)
