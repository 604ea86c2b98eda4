"""Lifecycle events: derived from the journal, ordered into a root execution's stream."""

from sdk.lifecycle.derive import execution_events
from sdk.lifecycle.model import EventType, LifecycleEvent
from sdk.lifecycle.stream import read_stream, stream_events

__all__ = ["EventType", "LifecycleEvent", "execution_events", "read_stream", "stream_events"]
