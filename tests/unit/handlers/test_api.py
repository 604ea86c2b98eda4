"""The HTTP API handler, fed the events a Function URL sends."""

from __future__ import annotations

import json
from typing import Any

import pytest

from examples.orders import process_order
from handlers.api import make_resolver
from local_emulator.http_api import function_url_event
from sdk import App, Client, Engine, InlineInvoker, MemoryJournal
from tests.support import FakeLambdaContext


@pytest.fixture
def call() -> Any:
    app, journal = App([process_order]), MemoryJournal()
    resolver = make_resolver(Client(app, journal, InlineInvoker(Engine(app, journal))))

    def request(method: str, target: str, body: Any = None) -> tuple[int, Any]:
        raw = (
            b""
            if body is None
            else (body if isinstance(body, bytes) else json.dumps(body).encode())
        )
        event = function_url_event(method, target, {"Content-Type": "application/json"}, raw)
        response = resolver.resolve(event, FakeLambdaContext())
        return response["statusCode"], json.loads(response["body"])

    return request


ORDER = {"payload": {"order_id": "o-1", "amount": 42}}


def test_workflows_are_listed(call: Any) -> None:
    status, body = call("GET", "/workflows")
    assert status == 200
    assert body["workflows"][0]["id"] == "process-order"


def test_invoking_returns_202_and_the_execution_shows_its_steps(call: Any) -> None:
    status, started = call("POST", "/workflows/process-order/invoke", ORDER)
    assert status == 202 and started["workflow_id"] == "process-order"
    status, execution = call("GET", f"/executions/{started['execution_id']}")
    assert status == 200 and execution["status"] == "completed"
    assert execution["output"]["status"] == "completed"
    assert [s["key"] for s in execution["steps"]][0] == "validate"


def test_executions_are_filtered_by_workflow_and_status(call: Any) -> None:
    call("POST", "/workflows/process-order/invoke", ORDER)
    status, body = call("GET", "/executions?workflow_id=process-order&status=completed&limit=5")
    assert status == 200 and len(body["executions"]) == 1
    assert call("GET", "/executions?status=failed")[1] == {"executions": [], "next": None}


@pytest.mark.parametrize(
    ("method", "target", "body", "status", "message"),
    [
        ("POST", "/workflows/nope/invoke", {}, 404, "unknown workflow 'nope'"),
        ("GET", "/executions/nope", None, 404, "no execution 'nope'"),
        ("POST", "/workflows/process-order/invoke", b"{not json", 400, "not JSON"),
        ("POST", "/workflows/process-order/invoke", [1], 400, "must be an object"),
        ("POST", "/workflows/process-order/invoke", {"pay": 1}, 400, "unknown fields: pay"),
        ("POST", "/workflows/process-order/invoke", {"payload": {"order_id": "x"}}, 400,
         "invalid input for workflow 'process-order'"),
        ("POST", "/workflows/process-order/invoke", {**ORDER, "execution_id": 5}, 400,
         "execution_id must be a non-empty string"),
        ("GET", "/executions?status=done", None, 400, "unknown status 'done'"),
        ("GET", "/executions?workflow_id=nope", None, 404, "unknown workflow 'nope'"),
        ("GET", "/executions?limit=many", None, 400, "limit must be a whole number"),
        ("GET", "/executions?limit=0", None, 400, "limit must be from 1 to 1000"),
    ],
)  # fmt: skip
def test_bad_requests_get_a_4xx_with_a_message(
    call: Any, method: str, target: str, body: Any, status: int, message: str
) -> None:
    got_status, got = call(method, target, body)
    assert got_status == status
    assert message in got["message"]


def test_reusing_an_execution_id_with_another_input_is_a_conflict(call: Any) -> None:
    call("POST", "/workflows/process-order/invoke", {**ORDER, "execution_id": "fixed"})
    other = {"payload": {"order_id": "o-2", "amount": 1}, "execution_id": "fixed"}
    status, body = call("POST", "/workflows/process-order/invoke", other)
    assert status == 409 and "already used" in body["message"]


def test_an_execution_is_cancelled_through_the_api(call: Any) -> None:
    _, started = call("POST", "/workflows/process-order/invoke", ORDER)
    status, body = call("POST", f"/executions/{started['execution_id']}/cancel", {})
    assert status == 200 and body["status"] == "completed"  # it had already finished
    assert call("POST", "/executions/nope/cancel", {})[0] == 404
