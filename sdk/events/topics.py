"""Topic events: what a publisher hands in, what the topic log keeps, and the rules.

A topic is a name such as ``user/signup`` or ``user.signup`` (both spellings of the
Polos pages are taken as given). An event's data is a JSON object. Every event in the
log has an ``id`` (given, derived from a workflow step, or fresh), a ``sequence_id``
that is gap-free and increasing per topic, its ``topic``, an optional ``event_type``,
its ``data`` and ``created_at``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sdk.errors import SteplineError
from sdk.ids import new_token
from sdk.payloads import EventPayload

# EventBridge takes a DetailType of up to 128 characters; a topic travels as one.
TOPIC_MAX_LENGTH = 128
TOPIC_RULE = (
    "1 to 128 characters: ASCII letters, digits, '/', '.', '_', '-' and ':', "
    "starting with a letter or a digit"
)
_TOPIC = re.compile(r"[A-Za-z0-9][A-Za-z0-9/._:-]*")
EVENT_ID_MAX_LENGTH = 256
_EVENT_ID = re.compile(r"[A-Za-z0-9_.:/#-]+")
EVENT_TYPE_MAX_LENGTH = 128
# A PutEvents entry takes at most 256 KB; data past that is kept in the value store.
INLINE_DATA_MAX_BYTES = 256 * 1024
MAX_TRANSACTION_ITEMS = 100  # DynamoDB's limit per TransactWriteItems
# A batch is claimed in one transaction: its execution, its input when stored apart,
# and one claim per event.
MAX_BATCH_EVENTS = MAX_TRANSACTION_ITEMS - 2


class InvalidEventError(SteplineError, ValueError):
    """A topic, an event id, an event type or event data breaks a rule; nothing was written."""


# Topics under this prefix carry lifecycle events (``sdk.lifecycle.bus``): only Stepline
# publishes there; workflows subscribe (``trigger_on_event="lifecycle/<workflow id>"``).
RESERVED_PREFIX = "lifecycle/"


def check_topic(topic: object) -> str:
    """``topic`` if it is a valid topic name (``TOPIC_RULE``); else ``InvalidEventError``."""
    if not isinstance(topic, str):
        raise InvalidEventError(f"a topic must be a string, got {type(topic).__name__}")
    if not topic or len(topic) > TOPIC_MAX_LENGTH or not _TOPIC.fullmatch(topic):
        raise InvalidEventError(f"topic {topic[:60]!r} is not valid: a topic is {TOPIC_RULE}")
    return topic


def check_pattern(pattern: object) -> str:
    """``pattern`` if it is a topic or a topic prefix followed by ``*``."""
    if isinstance(pattern, str) and pattern.endswith("*") and len(pattern) > 1:
        try:
            check_topic(pattern[:-1] + "x")
        except InvalidEventError:
            raise InvalidEventError(
                f"trigger pattern {pattern!r} is not valid: a topic, or a topic prefix "
                "ending in '*' (such as 'order/*')"
            ) from None
        return pattern
    return check_topic(pattern)


def matches(pattern: str, topic: str) -> bool:
    if pattern.endswith("*"):
        return topic.startswith(pattern[:-1])
    return pattern == topic


def check_event_id(event_id: object) -> str:
    if not isinstance(event_id, str) or not event_id:
        raise InvalidEventError(f"an event id must be a non-empty string, got {event_id!r}")
    if len(event_id) > EVENT_ID_MAX_LENGTH or not _EVENT_ID.fullmatch(event_id):
        raise InvalidEventError(
            f"event id {event_id[:60]!r} is not valid: up to {EVENT_ID_MAX_LENGTH} ASCII "
            "letters, digits and '_', '.', ':', '/', '#', '-'"
        )
    return event_id


def check_event_type(event_type: object) -> str | None:
    if event_type is None:
        return None
    if not isinstance(event_type, str) or not event_type:
        raise InvalidEventError(f"an event type must be a non-empty string, got {event_type!r}")
    if len(event_type) > EVENT_TYPE_MAX_LENGTH:
        raise InvalidEventError(
            f"event type {event_type[:60]!r}... is {len(event_type)} characters long; "
            f"the limit is {EVENT_TYPE_MAX_LENGTH}"
        )
    return event_type


def encode_data(data: object, max_bytes: int) -> str:
    """The event data as JSON text; ``InvalidEventError`` unless it is a JSON object of
    at most ``max_bytes``."""
    if not isinstance(data, dict):
        raise InvalidEventError(f"event data must be a JSON object, got {type(data).__name__}")
    try:
        text = json.dumps(data, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InvalidEventError(f"event data is not JSON: {exc}") from None
    except RecursionError:
        raise InvalidEventError("event data is nested too deeply to be JSON") from None
    size = len(text.encode())
    if size > max_bytes:
        raise InvalidEventError(f"event data is {size} bytes; the limit is {max_bytes}")
    return text


def new_event_id() -> str:
    return f"evt_{new_token()}"


@dataclass(frozen=True)
class NewEvent:
    """An event to publish, checked: ``data`` is its JSON text."""

    id: str
    data: str
    event_type: str | None = None

    @classmethod
    def of(
        cls,
        data: object,
        event_type: object = None,
        event_id: object = None,
        *,
        max_bytes: int,
    ) -> NewEvent:
        return cls(
            id=new_event_id() if event_id is None else check_event_id(event_id),
            data=encode_data(data, max_bytes),
            event_type=check_event_type(event_type),
        )


@dataclass(frozen=True)
class TopicEvent:
    """An event in the topic log."""

    id: str
    sequence_id: int
    topic: str
    data: str  # JSON text of an object
    created_at: datetime
    event_type: str | None = None

    def payload(self) -> EventPayload:
        """What a workflow receives (``EventPayload``), data decoded."""
        return EventPayload(
            id=self.id,
            sequence_id=self.sequence_id,
            topic=self.topic,
            data=json.loads(self.data),
            event_type=self.event_type,
            created_at=self.created_at,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "sequence_id": self.sequence_id,
            "topic": self.topic,
            "event_type": self.event_type,
            "data": json.loads(self.data),
            "created_at": self.created_at.isoformat().replace("+00:00", "Z"),
        }


@dataclass(frozen=True)
class Published:
    """What a publish returns for one event: its id and sequence id, and whether the id
    was already in the log (then ``sequence_id`` is the original one and nothing was
    written)."""

    id: str
    sequence_id: int
    topic: str
    duplicate: bool = False
