"""Lifecycle events: derived from the journal, ordered into a root execution's stream,
followed live (``stream_workflow``)."""

from sdk.lifecycle.derive import execution_events
from sdk.lifecycle.follow import StreamUnavailableError, stream_workflow
from sdk.lifecycle.model import EventType, LifecycleEvent
from sdk.lifecycle.stream import read_page, read_stream, stream_events

__all__ = [
    "EventType",
    "LifecycleEvent",
    "StreamUnavailableError",
    "execution_events",
    "read_page",
    "read_stream",
    "stream_events",
    "stream_workflow",
]
