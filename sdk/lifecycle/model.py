"""The lifecycle event: the envelope of the streaming page (seed ``000``).

``id``, ``sequence_id``, ``event_type``, ``data`` and ``created_at``, where ``data``
holds ``step_key``, ``step_type`` and ``_metadata`` (execution, workflow, parent and
root ids) plus what the execution-events page (seed ``003``) shows a user needs: a
step's ``attempt``, its ``runtime_us`` (microseconds) and an ``error`` with its
``type``, ``message`` and ``traceback``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sdk.failures import ErrorInfo
from sdk.ids import derived_id
from sdk.journal.records import iso


class EventType(enum.StrEnum):
    WORKFLOW_START = "workflow_start"
    WORKFLOW_FINISH = "workflow_finish"
    WORKFLOW_FAIL = "workflow_fail"
    WORKFLOW_CANCEL = "workflow_cancel"
    WORKFLOW_SUSPEND = "workflow_suspend"
    WORKFLOW_RESUME = "workflow_resume"
    STEP_START = "step_start"
    STEP_FINISH = "step_finish"
    STEP_ERROR = "step_error"
    STEP_RETRY = "step_retry"
    WORKFLOW_MESSAGE = "workflow_message"  # ``ctx.step.emit``: a message the workflow emits

    @property
    def terminal(self) -> bool:
        """Does an execution's stream end with this event?"""
        return self in _TERMINAL


_TERMINAL = frozenset(
    {EventType.WORKFLOW_FINISH, EventType.WORKFLOW_FAIL, EventType.WORKFLOW_CANCEL}
)


def event_id(execution_id: str, event_type: EventType, step_key: str | None, attempt: int) -> str:
    """The stable id of one thing that happened: the same journal always gives the same id."""
    return derived_id(execution_id, "lifecycle", event_type.value, step_key or "", str(attempt))


def runtime_us(started: datetime | None, finished: datetime | None) -> int | None:
    """Microseconds from ``started`` to ``finished``, when both are known."""
    if started is None or finished is None:
        return None
    delta = finished - started
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


class EventData(dict[str, Any]):
    """An event's ``data``: a plain dict, in which ``data["metadata"]`` also reads
    ``_metadata`` (page 000's WebSocket example spells it so); JSON shows ``_metadata``."""

    def __missing__(self, key: str) -> Any:
        if key == "metadata" and "_metadata" in self:
            return self["_metadata"]
        raise KeyError(key)


@dataclass(frozen=True, slots=True)
class LifecycleEvent:
    """One transition of an execution or of one of its steps.

    ``sequence_id`` is ``None`` until the event takes its place in a stream
    (``sdk.lifecycle.stream``); ``created_at`` is ISO-8601 UTC text, as on the page.
    """

    id: str
    event_type: EventType
    created_at: str
    execution_id: str
    workflow_id: str
    parent_execution_id: str | None
    root_execution_id: str
    step_key: str | None = None
    step_type: str | None = None
    attempt: int | None = None
    runtime_us: int | None = None
    error: ErrorInfo | None = None
    message: str | None = None  # a ``workflow_message``'s text
    attributes: dict[str, Any] | None = None  # and its data, if any
    sequence_id: int | None = None

    @property
    def metadata(self) -> dict[str, str | None]:
        """Which execution and workflow the event belongs to (``data["_metadata"]``)."""
        return {
            "execution_id": self.execution_id,
            "workflow_id": self.workflow_id,
            "parent_execution_id": self.parent_execution_id,
            "root_execution_id": self.root_execution_id,
        }

    @property
    def data(self) -> EventData:
        """The page's ``data``: step fields (for step events), timings, error, ``_metadata``."""
        data = EventData()
        if self.step_key is not None:
            data["step_key"] = self.step_key
            data["step_type"] = self.step_type
        if self.attempt is not None:
            data["attempt"] = self.attempt
        if self.runtime_us is not None:
            data["runtime_us"] = self.runtime_us
        if self.message is not None:
            data["message"] = self.message
            data["attributes"] = self.attributes
        if self.error is not None:
            data["error"] = {
                "type": self.error.type,
                "message": self.error.message,
                "traceback": self.error.traceback,
            }
        data["_metadata"] = self.metadata
        return data

    def to_dict(self) -> dict[str, Any]:
        """The envelope as JSON-ready values."""
        return {
            "id": self.id,
            "sequence_id": self.sequence_id,
            "event_type": self.event_type.value,
            "data": self.data,
            "created_at": self.created_at,
        }

    def at(self, sequence_id: int) -> LifecycleEvent:
        """This event, placed at ``sequence_id`` of a stream."""
        return replace(self, sequence_id=sequence_id)


def timestamp(moment: datetime) -> str:
    """``created_at`` text for ``moment``."""
    return iso(moment)
