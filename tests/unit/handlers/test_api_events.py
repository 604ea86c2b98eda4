"""POST /events/publish: the seed page's body, the same contract as every other door."""

from __future__ import annotations

import json
from typing import Any

import pytest

from handlers.api import make_resolver
from local_emulator.http_api import function_url_event
from sdk import (
    App,
    Client,
    Engine,
    EventPayload,
    InlineInvoker,
    MemoryJournal,
    WorkflowContext,
    workflow,
)
from tests.support import FakeLambdaContext

SEEN: list[dict[str, Any]] = []


@workflow(id="order-completed-handler", trigger_on_event="order.completed")
async def on_order(ctx: WorkflowContext, payload: EventPayload) -> None:
    SEEN.append({"data": payload.data, "type": payload.event_type, "seq": payload.sequence_id})


@pytest.fixture
def call() -> Any:
    SEEN.clear()
    app, journal = App([on_order]), MemoryJournal()
    resolver = make_resolver(Client(app, journal, InlineInvoker(Engine(app, journal))))

    def request(body: Any) -> tuple[int, Any]:
        event = function_url_event(
            "POST",
            "/events/publish",
            {"content-type": "application/json"},
            json.dumps(body).encode(),
        )
        response = resolver.resolve(event, FakeLambdaContext())
        return response["statusCode"], json.loads(response["body"])

    return request


def test_publishing_the_seed_body_starts_the_handler_and_returns_ids(call: Any) -> None:
    body = {
        "topic": "order.completed",
        "events": [
            {"data": {"order_id": "ord_123", "total": 99.99}, "event_type": "custom_event"},
            {"data": {"order_id": "ord_124", "total": 5}},
        ],
    }
    status, answer = call(body)
    assert status == 200
    assert [(e["sequence_id"], e["topic"], e["duplicate"]) for e in answer["events"]] == [
        (1, "order.completed", False),
        (2, "order.completed", False),
    ]
    assert all(e["id"].startswith("evt_") for e in answer["events"])
    assert SEEN == [
        {"data": {"order_id": "ord_123", "total": 99.99}, "type": "custom_event", "seq": 1},
        {"data": {"order_id": "ord_124", "total": 5}, "type": None, "seq": 2},
    ]


def test_an_event_id_sent_again_is_a_duplicate_and_starts_nothing(call: Any) -> None:
    body = {"topic": "order.completed", "events": [{"id": "e-1", "data": {"n": 1}}]}
    assert call(body)[1]["events"][0]["duplicate"] is False
    status, answer = call(body)
    assert (status, answer["events"][0]["duplicate"], answer["events"][0]["sequence_id"]) == (
        200,
        True,
        1,
    )
    assert len(SEEN) == 1


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ([], "must be an object"),
        ({"topic": "t"}, "events must be a non-empty list"),
        ({"topic": 3, "events": [{"data": {}}]}, "topic must be a string"),
        ({"topic": "a b", "events": [{"data": {}}]}, "topic 'a b' is not valid"),
        ({"topic": "t", "events": [{"data": [1]}]}, "must be a JSON object"),
        ({"topic": "t", "events": [{"data": {}, "colour": "red"}]}, "unknown fields: colour"),
        ({"topic": "t", "events": [{"data": {}}], "extra": 1}, "unknown fields: extra"),
        ({"topic": "t", "events": [{"data": {"ok": 1}}, {"data": "x"}]}, "JSON object"),
    ],
)
def test_bad_publishes_are_a_400_naming_the_problem_and_write_nothing(
    call: Any, body: Any, problem: str
) -> None:
    status, answer = call(body)
    assert status == 400
    assert problem in answer["message"]
    assert not SEEN
