"""``ctx.step.run``: call a function once, durably, with retries.

Sync callables run in a worker thread so parallel steps under ``asyncio.gather``
really overlap; async callables are awaited. A failure is retried with
exponential backoff (``base_delay * 2**n``, capped at ``max_delay``) up to
``max_retries`` times; ``TerminalError`` is never retried. The outcome, success
or final failure, is recorded once.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import weakref
from collections.abc import Callable
from typing import Any

from sdk import serde
from sdk.errors import SerializationError, TerminalError
from sdk.execution import ExecutionState
from sdk.failures import ErrorInfo
from sdk.journal.records import StepRecord, StepStatus
from sdk.operations.base import perform
from sdk.replay import StepCall, check_key

_NO_HINT = object()
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

    async def execute() -> tuple[StepRecord, BaseException | None]:
        started = state.now()
        attempt = 0
        while True:
            attempt += 1
            try:
                result = await _call(fn, args, kwargs)
                output = serde.dumps(result, what=f"step {key!r}")
            except Exception as exc:
                retry = not isinstance(exc, TerminalError | SerializationError)
                if retry and attempt <= max_retries:
                    await state.clock.sleep(min(max_delay, base_delay * 2 ** (attempt - 1)))
                    continue
                failed = StepRecord(
                    key, "run", name, StepStatus.FAILED,
                    error=ErrorInfo.from_exception(exc),
                    attempts=attempt, started_at=started, finished_at=state.now(),
                    position=state.position(key),
                )  # fmt: skip
                return failed, exc
            done = StepRecord(
                key, "run", name, StepStatus.COMPLETED,
                output=output, output_tag=serde.type_tag(result),
                attempts=attempt, started_at=started, finished_at=state.now(),
                position=state.position(key),
            )  # fmt: skip
            return done, None

    return await perform(state, call, execute, return_annotation(fn))
