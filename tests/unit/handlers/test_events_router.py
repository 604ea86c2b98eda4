"""The event router: raw EventBridge events become topic events, once each."""

from __future__ import annotations

from typing import Any

import pytest

from handlers.events import route
from sdk import App, Engine, EventPayload, InlineInvoker, MemoryJournal, WorkflowContext, workflow
from sdk.events import InvalidEventError
from sdk.events.log import log_for
from sdk.events.publisher import Publisher

SEEN: list[EventPayload] = []


@workflow(id="user-signup-handler", trigger_on_event="user/signup")
async def signup(ctx: WorkflowContext, payload: EventPayload) -> None:
    SEEN.append(payload)


@pytest.fixture
def publisher() -> Publisher:
    SEEN.clear()
    app, journal = App([signup]), MemoryJournal()
    log = log_for(journal)
    assert log is not None
    return Publisher(app, journal, log, InlineInvoker(Engine(app, journal)))


def bridge_event(
    detail: Any, event_id: str = "6a7e8feb-b491-4cf7-a9f1-bf3703467718"
) -> dict[str, Any]:
    """An event as EventBridge hands it to a Lambda target."""
    return {
        "version": "0",
        "id": event_id,
        "detail-type": "user/signup",
        "source": "my.app",
        "account": "123456789012",
        "time": "2026-11-22T10:30:00Z",
        "region": "us-east-1",
        "resources": [],
        "detail": detail,
    }


def test_a_raw_event_starts_the_handler_with_eventbridges_id(publisher: Publisher) -> None:
    answer = route(bridge_event({"user_id": "u-1", "email": "a@b.c"}), publisher)
    assert answer == {
        "topic": "user/signup",
        "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
        "sequence_id": 1,
        "duplicate": False,
    }
    [payload] = SEEN
    assert (payload.topic, payload.data, payload.event_type) == (
        "user/signup",
        {"user_id": "u-1", "email": "a@b.c"},
        None,
    )


def test_an_envelope_gives_the_event_its_id_and_type(publisher: Publisher) -> None:
    detail = {"data": {"user_id": "u-2"}, "event_type": "user_created", "id": "signup-u-2"}
    answer = route(bridge_event(detail), publisher)
    assert (answer["id"], SEEN[0].event_type, SEEN[0].data) == (
        "signup-u-2",
        "user_created",
        {"user_id": "u-2"},
    )


def test_a_redelivered_event_starts_nothing_new(publisher: Publisher) -> None:
    for _ in range(3):
        route(bridge_event({"user_id": "u-1"}), publisher)
    assert len(SEEN) == 1


@pytest.mark.parametrize(
    ("event", "problem"),
    [
        ({**bridge_event({}), "detail-type": None}, "detail-type"),
        (bridge_event("text"), "detail must be a JSON object"),
        ({**bridge_event({}), "detail-type": "bad topic"}, "topic 'bad topic' is not valid"),
        (bridge_event({"data": [1], "event_type": "x"}), "JSON object"),
    ],
)
def test_a_malformed_event_raises_and_writes_nothing(
    publisher: Publisher, event: dict[str, Any], problem: str
) -> None:
    with pytest.raises(InvalidEventError, match=problem):
        route(event, publisher)
    assert not SEEN
    assert publisher.log.last_sequence("user/signup") == 0
