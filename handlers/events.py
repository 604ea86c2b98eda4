"""The event router Lambda: events put on the app's EventBridge bus -> the topic log.

A rule on the bus sends every event here (Lambda's asynchronous invocation: retried,
then to a dead-letter queue). The event's ``detail-type`` is its topic and its
``detail`` its data. ``detail`` may instead be an envelope ``{"data": {...},
"event_type": ..., "id": ...}`` (only those keys, ``data`` required) to give the event a
type and an id of the publisher's choosing; otherwise EventBridge's own event id is the
event's id. Either way the event goes through ``sdk.events.Publisher``, as from every
other door: into the log, starting each subscribed workflow once (a redelivery is a
duplicate: nothing new starts), waking the topic's waiters.

A malformed event raises: it is retried, then kept in the dead-letter queue, and
nothing is written.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools import Logger

from handlers.config import (
    HandlerSettings,
    batch_feed_from_environ,
    journal_from_environ,
    runner_from_environ,
)
from sdk.app import App
from sdk.events import InvalidEventError, NewEvent
from sdk.events.log import log_for
from sdk.events.publisher import Publisher

logger = Logger(service="stepline-events")
ENVELOPE_KEYS = frozenset({"data", "event_type", "id"})


def topic_event(event: Mapping[str, Any], publisher: Publisher) -> tuple[str, NewEvent]:
    """(topic, event) of one EventBridge event; ``InvalidEventError`` naming the problem."""
    topic = event.get("detail-type")
    detail = event.get("detail")
    if not isinstance(topic, str):
        raise InvalidEventError("an EventBridge event needs a detail-type: the topic")
    if not isinstance(detail, dict):
        raise InvalidEventError(f"event {event.get('id')}: detail must be a JSON object")
    if "data" in detail and set(detail) <= ENVELOPE_KEYS:
        return topic, publisher.event(
            detail["data"], detail.get("event_type"), detail.get("id") or event.get("id")
        )
    return topic, publisher.event(detail, None, event.get("id"))


def build_publisher_from_environment() -> Publisher:
    settings = HandlerSettings.from_environ()
    journal = journal_from_environ(settings)
    log = log_for(journal)
    assert log is not None  # the DynamoDB journal keeps one
    invoker = runner_from_environ()
    app = App.from_modules(settings.app_modules)
    return Publisher(app, journal, log, invoker, batches=batch_feed_from_environ())


_publisher: Publisher | None = None


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The Lambda entry point: one EventBridge event."""
    global _publisher
    if _publisher is None:
        _publisher = build_publisher_from_environment()
    return route(event, _publisher)


def route(event: Mapping[str, Any], publisher: Publisher) -> dict[str, Any]:
    topic, new_event = topic_event(event, publisher)
    [published] = publisher.publish(topic, [new_event])
    answer = {
        "topic": topic,
        "id": published.id,
        "sequence_id": published.sequence_id,
        "duplicate": published.duplicate,
    }
    logger.info("routed", extra=answer)
    return answer
