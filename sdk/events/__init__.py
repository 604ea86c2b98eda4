"""Topic events: the topic log, publishing, triggers and waits (``sdk.events``), and
``events.stream_workflow`` (lifecycle events, ``sdk.lifecycle``), as page 000 imports it."""

import importlib
from typing import TYPE_CHECKING, Any

from sdk.events.log import MemoryTopicLog, TopicLog
from sdk.events.topics import (
    InvalidEventError,
    NewEvent,
    Published,
    TopicEvent,
    check_topic,
)

if TYPE_CHECKING:
    from sdk.lifecycle.follow import stream_workflow


def __getattr__(name: str) -> Any:
    # imported on first use: a deployed runner never follows a stream
    if name == "stream_workflow":
        return importlib.import_module("sdk.lifecycle.follow").stream_workflow
    raise AttributeError(f"module 'sdk.events' has no attribute {name!r}")


__all__ = [
    "InvalidEventError",
    "MemoryTopicLog",
    "NewEvent",
    "Published",
    "TopicEvent",
    "TopicLog",
    "check_topic",
    "stream_workflow",
]
