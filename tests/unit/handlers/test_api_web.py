"""The web page's routes (``handlers.api_web``): the page, its files, and /topics/recent."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from handlers.api import make_resolver
from handlers.api_web import web_files
from local_emulator.http_api import function_url_event
from sdk import App, Client, Engine, EventPayload, InlineInvoker, MemoryJournal, WorkflowContext
from sdk import workflow as workflow_decorator
from sdk.timers import ManualTimers
from tests.support import FakeLambdaContext


@workflow_decorator(id="await-answer")
async def await_answer(ctx: WorkflowContext, topic: str) -> str:
    event = await ctx.step.wait_for_event("answer", topic=topic, timeout=3600)
    return str(event.data)


@workflow_decorator(id="on-note", trigger_on_event="notes/new")
async def on_note(ctx: WorkflowContext, payload: EventPayload) -> str:
    return "seen"


@pytest.fixture
def client() -> Client:
    app, journal = App([await_answer, on_note]), MemoryJournal()
    return Client(app, journal, InlineInvoker(Engine(app, journal, timers=ManualTimers())))


def respond(client: Client, target: str, method: str = "GET") -> dict[str, Any]:
    event = function_url_event(method, target, {}, b"")
    response: dict[str, Any] = make_resolver(client).resolve(event, FakeLambdaContext())
    return response


def test_the_root_serves_the_page_with_versioned_files(client: Client) -> None:
    answer = respond(client, "/")
    assert answer["statusCode"] == 200
    assert answer["headers"]["Content-Type"] == "text/html; charset=utf-8"
    assert answer["headers"]["Cache-Control"] == "no-cache"
    assert "default-src 'none'" in answer["headers"]["Content-Security-Policy"]
    assets = re.findall(r'(?:src|href)="(ui/[^"]+)"', answer["body"])
    assert {a.split("?")[0] for a in assets} == {"ui/app.css", "ui/app.js", "ui/timeline.js"}
    version = {a.split("?v=")[1] for a in assets}
    assert len(version) == 1 and "__VERSION__" not in answer["body"]


@pytest.mark.parametrize(
    ("name", "kind"),
    [("app.js", "text/javascript"), ("timeline.js", "text/javascript"), ("app.css", "text/css")],
)
def test_the_page_s_files_are_served_with_their_type_and_cached(
    client: Client, name: str, kind: str
) -> None:
    answer = respond(client, f"/ui/{name}?v=anything")
    assert answer["statusCode"] == 200
    assert answer["headers"]["Content-Type"] == f"{kind}; charset=utf-8"
    assert "immutable" in answer["headers"]["Cache-Control"]
    assert answer["body"] == web_files()[name]


@pytest.mark.parametrize("name", ["nope.js", "index.html", "..%2Fapi.py"])
def test_a_file_the_page_does_not_have_is_a_404(client: Client, name: str) -> None:
    answer = respond(client, f"/ui/{name}")
    assert answer["statusCode"] == 404
    assert "the page has no file" in json.loads(answer["body"])["message"]


def test_the_page_answers_head_options_and_405(client: Client) -> None:
    assert respond(client, "/", "HEAD")["statusCode"] == 200
    assert respond(client, "/", "HEAD")["body"] == ""
    assert respond(client, "/", "OPTIONS")["headers"]["Allow"] == "GET, HEAD, OPTIONS"
    refused = respond(client, "/", "POST")
    assert refused["statusCode"] == 405
    assert refused["headers"]["Allow"] == "GET, HEAD, OPTIONS"


def test_recent_topics_list_events_newest_first_subscribers_and_waiters(client: Client) -> None:
    waiting = client.invoke(await_answer, "answers/a-1").id
    client.publish_events("notes/new", [{"data": {"n": 1}}, {"data": {"n": 2}}])
    answer = respond(client, "/topics/recent?limit=1")
    assert answer["statusCode"] == 200
    topics = {t["topic"]: t for t in json.loads(answer["body"])["topics"]}
    notes = topics["notes/new"]
    assert notes["subscribers"] == ["on-note"]
    assert notes["last_sequence_id"] == 2
    assert [e["data"] for e in notes["events"]] == [{"n": 2}]
    client.publish_events("answers/a-1", [{"data": {"ok": True}}])  # wakes the waiter
    assert client.get_execution(waiting).status == "completed"
    answers = json.loads(respond(client, "/topics/recent")["body"])["topics"]
    assert [t["waiting"] for t in answers if t["topic"] == "answers/a-1"] == [[]]


def test_a_topic_s_waiting_executions_are_listed(client: Client) -> None:
    client.publish_events("answers/a-2", [{"data": {"early": True}}])  # the topic exists
    waiting = client.invoke(await_answer, "answers/a-2").id
    answers = json.loads(respond(client, "/topics/recent")["body"])["topics"]
    [topic] = [t for t in answers if t["topic"] == "answers/a-2"]
    assert topic["waiting"] == [{"execution_id": waiting, "step_key": "answer"}]


def test_long_event_data_is_shortened_in_recent_topics(client: Client) -> None:
    client.publish_events("notes/new", [{"data": {"text": "x" * 5000}}])
    topics = json.loads(respond(client, "/topics/recent")["body"])["topics"]
    [event] = [t for t in topics if t["topic"] == "notes/new"][0]["events"]
    assert event["data"]["shortened"] is True
    assert len(event["data"]["preview"]) < 600


@pytest.mark.parametrize(
    ("target", "problem"),
    [
        ("/topics/recent?limit=0", "limit must be from 1 to 1000"),
        ("/topics/recent?limit=51", "limit must be from 1 to 50"),
        ("/topics/recent?limit=x", "limit must be a whole number"),
        ("/topics/recent?topic=a", "unknown query parameters"),
    ],
)
def test_bad_recent_topics_parameters_are_a_400_naming_them(
    client: Client, target: str, problem: str
) -> None:
    answer = respond(client, target)
    assert answer["statusCode"] == 400
    assert problem in json.loads(answer["body"])["message"]
