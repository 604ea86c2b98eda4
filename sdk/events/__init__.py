"""Topic events: the topic log, publishing, triggers and waits (``sdk.events``)."""

from sdk.events.log import MemoryTopicLog, TopicLog
from sdk.events.topics import (
    InvalidEventError,
    NewEvent,
    Published,
    TopicEvent,
    check_topic,
)

__all__ = [
    "InvalidEventError",
    "MemoryTopicLog",
    "NewEvent",
    "Published",
    "TopicEvent",
    "TopicLog",
    "check_topic",
]
