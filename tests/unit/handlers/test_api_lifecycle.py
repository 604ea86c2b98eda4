"""The lifecycle stream on the HTTP API: long-poll JSON and Server-Sent Events."""

from __future__ import annotations

import json
from typing import Any

import pytest

from examples.orders import process_order
from handlers.api import make_resolver
from local_emulator.http_api import function_url_event
from sdk import App, Client, Engine, InlineInvoker, MemoryJournal, WorkflowContext, workflow
from sdk.timers import ManualTimers
from tests.support import FakeLambdaContext


@workflow(id="nap-then-greet")
async def nap_then_greet(ctx: WorkflowContext, name: str) -> str:
    await ctx.step.wait_for("nap", minutes=5)
    return f"hello {name}"


@pytest.fixture
def client() -> Client:
    app, journal = App([process_order, nap_then_greet]), MemoryJournal()
    return Client(app, journal, InlineInvoker(Engine(app, journal, timers=ManualTimers())))


def respond(client: Client, target: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
    event = function_url_event("GET", target, headers or {}, b"")
    response: dict[str, Any] = make_resolver(client).resolve(event, FakeLambdaContext())
    return response


def finished(client: Client) -> str:
    handle = client.invoke(process_order, {"order_id": "o-1", "amount": 42})
    handle.result(timeout=5)
    return handle.id


def test_the_long_poll_returns_the_stream_after_a_sequence_id(client: Client) -> None:
    execution_id = finished(client)
    whole = json.loads(respond(client, f"/executions/{execution_id}/events")["body"])
    assert whole["done"] is True
    types = [e["event_type"] for e in whole["events"]]
    assert types[0] == "workflow_start" and types[-1] == "workflow_finish"
    assert whole["last_sequence_id"] == len(types)
    rest = json.loads(respond(client, f"/executions/{execution_id}/events?after=2")["body"])
    assert rest["events"] == whole["events"][2:]
    assert whole["events"][0]["data"]["_metadata"]["execution_id"] == execution_id


def test_a_long_poll_on_a_waiting_execution_returns_nothing_new_after_its_wait(
    client: Client,
) -> None:
    execution_id = client.invoke(nap_then_greet, "ada").id
    first = json.loads(respond(client, f"/executions/{execution_id}/events")["body"])
    assert first["done"] is False
    last = first["last_sequence_id"]
    again = respond(client, f"/executions/{execution_id}/events?after={last}&wait=0.05")
    assert json.loads(again["body"]) == {"events": [], "last_sequence_id": last, "done": False}


def test_server_sent_events_carry_sequence_ids_and_honour_last_event_id(client: Client) -> None:
    execution_id = finished(client)
    response = respond(client, f"/executions/{execution_id}/events/stream?after=0",
                       {"Last-Event-ID": "3"})  # fmt: skip
    assert response["statusCode"] == 200
    assert response["headers"]["Content-Type"] == "text/event-stream"
    blocks = [b for b in response["body"].split("\n\n") if b.strip()]
    assert blocks[0] == "retry: 100"
    first = dict(line.split(": ", 1) for line in blocks[1].splitlines())
    assert first["id"] == "4"  # after the Last-Event-ID, not after ?after=0
    assert json.loads(first["data"])["sequence_id"] == 4
    assert first["event"] == json.loads(first["data"])["event_type"]
    assert blocks[-1] == "event: end\ndata: {}"


def test_a_stream_that_is_over_answers_204_so_an_event_source_stops(client: Client) -> None:
    execution_id = finished(client)
    whole = json.loads(respond(client, f"/executions/{execution_id}/events")["body"])
    last = whole["last_sequence_id"]
    response = respond(client, f"/executions/{execution_id}/events/stream",
                       {"Last-Event-ID": str(last)})  # fmt: skip
    assert response["statusCode"] == 204


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("/events?after=x", "after must be a sequence id (a whole number >= 0), got 'x'"),
        ("/events?after=-1", "after must be a sequence id"),
        ("/events?wait=soon", "wait must be a number of seconds, got 'soon'"),
        ("/events?wait=60", "wait must be from 0 to 20 seconds, got 60"),
        ("/events?since=3", "unknown query parameters: since"),
        ("/events/stream?wait=-1", "wait must be from 0 to 20 seconds"),
    ],
)
def test_bad_stream_parameters_are_a_400_naming_them(
    client: Client, target: str, message: str
) -> None:
    execution_id = finished(client)
    response = respond(client, f"/executions/{execution_id}{target}")
    assert response["statusCode"] == 400
    assert message in json.loads(response["body"])["message"]


def test_a_bad_last_event_id_is_a_400_naming_the_header(client: Client) -> None:
    execution_id = finished(client)
    response = respond(client, f"/executions/{execution_id}/events/stream", {"Last-Event-ID": "x"})
    assert response["statusCode"] == 400
    assert "Last-Event-ID must be a sequence id" in json.loads(response["body"])["message"]


def test_the_stream_of_an_unknown_execution_is_a_404(client: Client) -> None:
    for path in ("events", "events/stream"):
        response = respond(client, f"/executions/no-such-run/{path}")
        assert response["statusCode"] == 404
        assert "no-such-run" in json.loads(response["body"])["message"]
