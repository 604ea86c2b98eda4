"""The HTTP API keeps every response under Lambda's 6 MB: pages, shortened values, 413s."""

from __future__ import annotations

import json
from typing import Any

import pytest

from handlers.api import make_resolver
from local_emulator.http_api import function_url_event
from sdk import App, Client, Engine, InlineInvoker, MemoryJournal, WorkflowContext, workflow
from sdk.values import MemoryValueStore
from tests.support import FakeLambdaContext

KB = 1024


def _text(size: int) -> str:
    return "s" * size


@workflow(id="sized")
async def sized(ctx: WorkflowContext, size: int) -> str:
    await ctx.step.run("make", _text, size)
    return "o" * size


@pytest.fixture
def call() -> Any:
    app, journal = App([sized]), MemoryJournal(values=MemoryValueStore(max_bytes=8 * KB * KB))
    resolver = make_resolver(Client(app, journal, InlineInvoker(Engine(app, journal))))

    def request(target: str) -> tuple[int, Any]:
        event = function_url_event("GET", target, {}, b"")
        response = resolver.resolve(event, FakeLambdaContext())
        return response["statusCode"], json.loads(response["body"])

    def invoke(size: int) -> str:
        event = function_url_event(
            "POST", "/workflows/sized/invoke", {}, json.dumps({"payload": size}).encode()
        )
        return str(json.loads(resolver.resolve(event, FakeLambdaContext())["body"])["execution_id"])

    request.invoke = invoke  # type: ignore[attr-defined]
    return request


def test_executions_are_listed_a_page_at_a_time_with_a_cursor(call: Any) -> None:
    started = {call.invoke(1) for _ in range(5)}
    seen: list[str] = []
    target = "/executions?limit=2"
    pages = 0
    while True:
        status, body = call(target)
        assert status == 200 and len(body["executions"]) <= 2
        seen += [view["execution_id"] for view in body["executions"]]
        pages += 1
        if body["next"] is None:
            break
        target = f"/executions?limit=2&next={body['next']}"
    assert (pages, len(seen), set(seen)) == (3, 5, started)


def test_a_bad_cursor_is_a_400(call: Any) -> None:
    status, body = call("/executions?next=garbage!")
    assert status == 400 and "next must be a token from a previous page" in body["message"]


def test_one_execution_shows_long_values_shortened_with_the_path_to_them(call: Any) -> None:
    eid = call.invoke(100 * KB)
    status, view = call(f"/executions/{eid}")
    assert status == 200
    output, step_output = view["output"], view["steps"][0]["output"]
    assert output["shortened"] is True and output["bytes"] == 100 * KB + 2
    assert output["path"] == f"/executions/{eid}/output"
    assert step_output["path"] == f"/executions/{eid}/steps/make/output"
    assert len(output["preview"].encode()) <= 64 * KB
    assert call(output["path"]) == (200, "o" * (100 * KB))
    assert call(step_output["path"]) == (200, "s" * (100 * KB))


def test_a_listing_shortens_values_past_512_bytes(call: Any) -> None:
    eid = call.invoke(1 * KB)
    status, body = call("/executions")
    (view,) = body["executions"]
    assert view["execution_id"] == eid and view["output"]["bytes"] == KB + 2
    assert view["input"] == 1 * KB  # short values are shown as they are


def test_a_value_past_a_lambda_response_is_refused_with_413(call: Any) -> None:
    eid = call.invoke(7 * KB * KB)
    status, body = call(f"/executions/{eid}/output")
    assert status == 413
    assert body["message"].startswith(f"the output of execution {eid!r} is 7340034 bytes")
    assert call(f"/executions/{eid}")[0] == 200  # the view itself is shortened


def test_a_missing_step_is_a_404(call: Any) -> None:
    eid = call.invoke(1)
    status, body = call(f"/executions/{eid}/steps/nope/output")
    assert status == 404 and body["message"] == f"execution {eid!r} has no step 'nope'"
