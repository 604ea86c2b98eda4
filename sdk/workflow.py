"""``@workflow``: turning an ``async def`` into a ``Workflow`` object.

Everything a declaration can get wrong is refused here, at decoration time,
with a message naming the workflow and the problem: not an ``async def``, a
bad id, ``batch_size`` without a trigger, a batch window over 300 s, a
malformed cron expression or one EventBridge Scheduler cannot express, an unknown
timezone, a schedule on an event-triggered workflow.
"""

from __future__ import annotations

import inspect
import re
import typing
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Generic, TypeVar, overload

from sdk import serde
from sdk.errors import InvalidPayloadError, WorkflowDefinitionError
from sdk.events.topics import MAX_BATCH_EVENTS, RESERVED_PREFIX, InvalidEventError, check_pattern
from sdk.schedules.spec import Schedule, parse_schedule

if TYPE_CHECKING:
    from sdk.client import Client, ExecutionHandle
    from sdk.context import WorkflowContext

R = TypeVar("R")
WorkflowFn = Callable[..., Awaitable[R]]

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
MAX_BATCH_WINDOW_SECONDS = 300
MAX_BATCH_SIZE = MAX_BATCH_EVENTS  # one transaction claims a batch (sdk.events.batches)


class Workflow(Generic[R]):
    """A durable workflow: its function, its input type and how it is triggered."""

    def __init__(
        self,
        fn: WorkflowFn[R],
        *,
        id: str,
        trigger_on_event: str | None = None,
        event_types: frozenset[str] | None = None,
        batch_size: int | None = None,
        batch_timeout_seconds: float | None = None,
        schedule: Schedule | None = None,
    ) -> None:
        self.fn = fn
        self.id = id
        self.trigger_on_event = trigger_on_event
        self.event_types = event_types
        self.batch_size = batch_size
        self.batch_timeout_seconds = batch_timeout_seconds
        self.schedule = schedule
        self.takes_input, self.input_annotation = _input_of(fn, id)
        self.output_annotation = _hints(fn).get("return")
        self.__doc__ = fn.__doc__
        self.__name__ = fn.__name__
        self.__qualname__ = fn.__qualname__
        self.__module__ = fn.__module__

    def __repr__(self) -> str:
        return f"<Workflow {self.id!r} ({self.__module__}.{self.__qualname__})>"

    def validate_input(self, payload: Any) -> Any:
        """Validate ``payload`` against the input annotation and return the rebuilt value."""
        if not self.takes_input:
            if payload is not None:
                raise InvalidPayloadError(f"workflow {self.id!r} takes no input, got {payload!r}")
            return None
        if self.input_annotation is None:
            return payload
        try:
            return serde.adapter(self.input_annotation).validate_python(payload)
        except Exception as exc:  # pydantic.ValidationError, without importing pydantic here
            raise InvalidPayloadError(f"invalid input for workflow {self.id!r}: {exc}") from exc

    def encode_input(self, payload: Any, *, limit: int = serde.MAX_STORED_BYTES) -> str | None:
        """Validate ``payload`` and encode it for the journal (at most ``limit`` bytes)."""
        value = self.validate_input(payload)
        if not self.takes_input:
            return None
        return serde.dumps(value, what=f"the input of workflow {self.id!r}", limit=limit)

    def decode_input(self, text: str | None) -> Any:
        """Rebuild the stored input (the inverse of ``encode_input``)."""
        return self.validate_input(serde.loads(text)) if self.takes_input else None

    def invoke(self, client: Client, payload: Any = None, **options: Any) -> ExecutionHandle[R]:
        """Start this workflow through ``client``; same as ``client.invoke(self, payload)``."""
        return client.invoke(self, payload, **options)

    async def __call__(self, ctx: WorkflowContext, payload: Any = None) -> R:
        if self.takes_input:
            return await self.fn(ctx, payload)
        return await self.fn(ctx)


def _hints(fn: Callable[..., Any]) -> dict[str, Any]:
    try:
        return typing.get_type_hints(fn)
    except Exception:  # unresolved forward references: fall back to no annotations
        return {}


def _input_of(fn: Callable[..., Any], workflow_id: str) -> tuple[bool, Any]:
    params = list(inspect.signature(fn).parameters.values())
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if not positional or len(positional) > 2 or len(positional) != len(params):
        raise WorkflowDefinitionError(
            f"workflow {workflow_id!r} must take (ctx) or (ctx, payload) as positional "
            f"parameters, got ({', '.join(p.name for p in params)})"
        )
    if len(positional) == 1:
        return False, None
    return True, _hints(fn).get(positional[1].name)


def _check_id(workflow_id: str) -> None:
    if not isinstance(workflow_id, str) or not _ID.match(workflow_id):
        raise WorkflowDefinitionError(
            f"workflow id {workflow_id!r} is invalid: use 1-64 letters, digits, '-' or '_', "
            "starting with a letter or digit"
        )


def _check_topic(workflow_id: str, topic: str | None) -> None:
    if topic is None:
        return
    try:
        check_pattern(topic)
    except InvalidEventError as exc:
        raise WorkflowDefinitionError(
            f"workflow {workflow_id!r}: trigger_on_event: {exc}"
        ) from None
    if topic == f"{RESERVED_PREFIX}{workflow_id}":
        raise WorkflowDefinitionError(
            f"workflow {workflow_id!r} cannot subscribe to its own lifecycle events "
            f"({topic!r}): it would trigger itself"
        )


def _check_event_types(
    workflow_id: str, topic: str | None, event_types: Iterable[str] | None
) -> frozenset[str] | None:
    if event_types is None:
        return None
    if topic is None:
        raise WorkflowDefinitionError(
            f"workflow {workflow_id!r}: event_types needs trigger_on_event"
        )
    if isinstance(event_types, str):
        raise WorkflowDefinitionError(
            f"workflow {workflow_id!r}: event_types must be a list of types, not a string"
        )
    types = frozenset(event_types)
    if not types or not all(isinstance(t, str) and t for t in types):
        raise WorkflowDefinitionError(
            f"workflow {workflow_id!r}: event_types must be non-empty strings, got {event_types!r}"
        )
    return types


def _check_batching(
    workflow_id: str, topic: str | None, size: int | None, window: float | None
) -> None:
    if size is None:
        if window is not None:
            raise WorkflowDefinitionError(
                f"workflow {workflow_id!r}: batch_timeout_seconds needs batch_size"
            )
        return
    if topic is None:
        raise WorkflowDefinitionError(
            f"workflow {workflow_id!r}: batch_size needs trigger_on_event (batches are of events)"
        )
    if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= MAX_BATCH_SIZE:
        raise WorkflowDefinitionError(
            f"workflow {workflow_id!r}: batch_size must be an integer from 1 to "
            f"{MAX_BATCH_SIZE} (one DynamoDB transaction claims a batch), got {size!r}"
        )
    if window is not None and (
        isinstance(window, bool)
        or not isinstance(window, int | float)
        or not 0 <= window <= MAX_BATCH_WINDOW_SECONDS
    ):
        raise WorkflowDefinitionError(
            f"workflow {workflow_id!r}: batch_timeout_seconds must be from 0 to "
            f"{MAX_BATCH_WINDOW_SECONDS} (the longest SQS batching window), got {window!r}"
        )


@overload
def workflow(fn: WorkflowFn[R], /) -> Workflow[R]: ...


@overload
def workflow(
    *,
    id: str | None = None,
    trigger_on_event: str | None = None,
    event_types: Iterable[str] | None = None,
    batch_size: int | None = None,
    batch_timeout_seconds: float | None = None,
    schedule: str | Mapping[str, Any] | None = None,
) -> Callable[[WorkflowFn[R]], Workflow[R]]: ...


def workflow(
    fn: WorkflowFn[R] | None = None,
    /,
    *,
    id: str | None = None,
    trigger_on_event: str | None = None,
    event_types: Iterable[str] | None = None,
    batch_size: int | None = None,
    batch_timeout_seconds: float | None = None,
    schedule: str | Mapping[str, Any] | None = None,
) -> Workflow[R] | Callable[[WorkflowFn[R]], Workflow[R]]:
    """Declare a durable workflow.

    Args:
        id: The workflow id; defaults to the function's name.
        trigger_on_event: A topic whose events start this workflow (``user/signup``), or a
            prefix ending in ``*`` (``order/*``).
        event_types: Only events of these types start it (checked before anything runs).
        batch_size: Deliver events in batches of up to this many (needs a topic).
        batch_timeout_seconds: The longest a batch waits to fill, at most 300 s.
        schedule: A 5-field cron string, or ``{"cron": ..., "timezone": ..., "key": ...,
            "overlap": "skip" | "allow"}`` (``sdk.schedules.spec``).

    Raises:
        WorkflowDefinitionError: naming the workflow and what is wrong.
    """

    def decorate(func: WorkflowFn[R]) -> Workflow[R]:
        workflow_id = func.__name__ if id is None else id
        _check_id(workflow_id)
        if not inspect.iscoroutinefunction(func):
            raise WorkflowDefinitionError(f"workflow {workflow_id!r} must be an 'async def'")
        _check_topic(workflow_id, trigger_on_event)
        types = _check_event_types(workflow_id, trigger_on_event, event_types)
        _check_batching(workflow_id, trigger_on_event, batch_size, batch_timeout_seconds)
        if schedule is not None and trigger_on_event is not None:
            raise WorkflowDefinitionError(
                f"workflow {workflow_id!r}: a workflow is either scheduled or event-triggered, "
                "not both"
            )
        return Workflow(
            func,
            id=workflow_id,
            trigger_on_event=trigger_on_event,
            event_types=types,
            batch_size=batch_size,
            batch_timeout_seconds=batch_timeout_seconds,
            schedule=parse_schedule(workflow_id, schedule),
        )

    return decorate if fn is None else decorate(fn)
