"""The HTTP API handler, fed the events a Function URL sends."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from examples.orders import process_order
from handlers.api import make_resolver
from handlers.api_input import MAX_BODY_BYTES
from local_emulator.http_api import function_url_event
from sdk import App, Client, Engine, ExecutionStatus, InlineInvoker, MemoryJournal
from tests.support import FakeLambdaContext, QueueInvoker

Respond = Callable[..., dict[str, Any]]


@pytest.fixture
def client() -> Client:
    app, journal = App([process_order]), MemoryJournal()
    return Client(app, journal, InlineInvoker(Engine(app, journal)))


@pytest.fixture
def respond(client: Client) -> Respond:
    """``respond(method, target, body)`` -> the handler's response to a Function URL event."""
    resolver = make_resolver(client)

    def request(method: str, target: str, body: Any = None) -> dict[str, Any]:
        raw = (
            b""
            if body is None
            else (body if isinstance(body, bytes) else json.dumps(body).encode())
        )
        event = function_url_event(method, target, {"Content-Type": "application/json"}, raw)
        response: dict[str, Any] = resolver.resolve(event, FakeLambdaContext())
        return response

    return request


@pytest.fixture
def call(respond: Respond) -> Any:
    def request(method: str, target: str, body: Any = None) -> tuple[int, Any]:
        response = respond(method, target, body)
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


def test_resuming_an_execution_that_is_not_parked_is_a_conflict(call: Any) -> None:
    _, started = call("POST", "/workflows/process-order/invoke", ORDER)
    status, body = call("POST", f"/executions/{started['execution_id']}/resume", {})
    assert status == 409
    assert "is completed, not parked" in body["message"]
INVOKE = "/workflows/process-order/invoke"
NOT_AN_ID = "an execution id may contain only ASCII letters, digits"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"[" * 10_000 + b"]" * 10_000, "nests deeper than 100 arrays or objects"),
        (b'{"payload": ' + b"[" * 101 + b"]" * 101 + b"}", "nests deeper than 100"),
        (b'{"payload": {"amount": ' + b"7" * 5_000 + b"}}", "a number of 5000 digits"),
        (b'{"payload": {"amount": 1e999}}', "a number out of range: 1e999"),
        (b'{"payload": {"amount": NaN}}', "NaN is not a JSON value"),
        (b'{"payload": "\xff"}', "not UTF-8: byte 0xff at offset 13"),
        (b'{"payload": "\\ud800"}', "a lone surrogate \\ud800"),
        (b"{not json", "the request body is not JSON"),
        (b"[1]", "the request body must be an object"),
        (b'"payload"', "the request body must be an object"),
        ({"pay": 1}, "unknown fields: pay (known: payload, execution_id"),
        ({**ORDER, "execution_id": "x" * 3_000}, "is 3000 characters long; the limit is 200"),
        ({**ORDER, "execution_id": "order 1"}, f"'order 1' contains ' '; {NOT_AN_ID}"),
        ({**ORDER, "execution_id": "a/b"}, f"'a/b' contains '/'; {NOT_AN_ID}"),
        ({**ORDER, "execution_id": "\u00fc"}, f"'\u00fc' contains '\u00fc'; {NOT_AN_ID}"),
        ({**ORDER, "execution_id": 5}, "execution_id must be a non-empty string"),
    ],
)  # fmt: skip
def test_a_refused_invoke_is_a_400_naming_the_problem_and_writes_nothing(
    respond: Respond, client: Client, body: Any, message: str
) -> None:
    response = respond("POST", INVOKE, body)
    assert response["statusCode"] == 400
    assert message in json.loads(response["body"])["message"]
    assert client.list_executions() == []


def test_a_body_over_the_limit_is_a_413_and_writes_nothing(
    respond: Respond, client: Client
) -> None:
    body = {"payload": {"order_id": "x" * MAX_BODY_BYTES, "amount": 1}}
    response = respond("POST", INVOKE, body)
    assert response["statusCode"] == 413
    assert f"the API takes at most {MAX_BODY_BYTES}" in json.loads(response["body"])["message"]
    assert client.list_executions() == []


def test_a_percent_encoded_execution_id_is_decoded_in_the_path(call: Any) -> None:
    status, started = call("POST", INVOKE, {**ORDER, "execution_id": "order:7.a_b-c"})
    assert status == 202
    status, execution = call("GET", "/executions/order%3A7.a_b-c?steps=false")
    assert status == 200 and execution["execution_id"] == "order:7.a_b-c"
    status, cancelled = call("POST", "/executions/order%3a7.a_b-c/cancel")
    assert status == 200 and cancelled["execution_id"] == "order:7.a_b-c"


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("/executions/order%201", "'order 1' contains ' '"),
        ("/executions/a%2Fb", "'a/b' contains '/'"),
        ("/executions/%C3%BC", "'\u00fc' contains '\u00fc'"),
        ("/executions/%FF", "contains '\ufffd'"),
        ("/executions/" + "x" * 3_000, "is 3000 characters long"),
        ("/executions/a%2Fb/cancel", "'a/b' contains '/'"),
    ],
)
def test_an_execution_id_breaking_the_rule_is_a_400_when_read(
    call: Any, target: str, message: str
) -> None:
    method = "POST" if target.endswith("/cancel") else "GET"
    status, body = call(method, target)
    assert status == 400 and body["error"] == "InvalidExecutionIdError"
    assert message in body["message"]


def test_a_cancel_body_with_fields_is_refused_and_cancels_nothing() -> None:
    app, journal = App([process_order]), MemoryJournal()
    client = Client(app, journal, QueueInvoker())  # the execution stays pending
    resolver = make_resolver(client)
    execution_id = client.invoke(process_order, ORDER["payload"]).id
    event = function_url_event("POST", f"/executions/{execution_id}/cancel", {}, b'{"force": true}')
    response = resolver.resolve(event, FakeLambdaContext())
    assert response["statusCode"] == 400
    assert "unknown fields: force (cancel takes none)" in response["body"]
    assert client.get_execution(execution_id).status is ExecutionStatus.PENDING


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("/executions?workflow=process-order", "unknown query parameters: workflow"),
        ("/executions?limit=" + "9" * 5_000, "limit must be from 1 to 1000"),
        ("/executions/abc?steps=maybe", "steps must be true or false, got 'maybe'"),
        ("/executions/abc?step=false", "unknown query parameters: step (known: steps)"),
    ],
)
def test_a_query_the_route_does_not_read_is_a_400(call: Any, target: str, message: str) -> None:
    status, body = call("GET", target)
    assert status == 400 and message in body["message"]


@pytest.mark.parametrize("target", ["/workflows", "/executions", "/executions/nope"])
def test_head_answers_like_get_without_a_body(respond: Respond, target: str) -> None:
    got, head = respond("GET", target), respond("HEAD", target)
    assert head["statusCode"] == got["statusCode"]
    assert head["headers"] == got["headers"]
    assert head["body"] == "" and got["body"] != ""


@pytest.mark.parametrize(
    ("target", "allow"),
    [
        ("/workflows", "GET, HEAD, OPTIONS"),
        ("/workflows/process-order/invoke", "POST, OPTIONS"),
        ("/executions", "GET, HEAD, OPTIONS"),
        ("/executions/abc", "GET, HEAD, OPTIONS"),
        ("/executions/abc/cancel", "POST, OPTIONS"),
    ],
)
def test_options_answers_204_with_the_allowed_methods(
    respond: Respond, target: str, allow: str
) -> None:
    response = respond("OPTIONS", target)
    assert response["statusCode"] == 204 and response["body"] == ""
    assert response["headers"]["Allow"] == allow


def test_a_method_a_route_does_not_serve_is_a_405_with_allow(respond: Respond) -> None:
    response = respond("DELETE", "/executions/abc")
    assert response["statusCode"] == 405
    assert response["headers"]["Allow"] == "GET, HEAD, OPTIONS"
    message = json.loads(response["body"])["message"]
    assert message == "DELETE is not allowed on /executions/abc; allowed: GET, HEAD, OPTIONS"


def test_an_unknown_path_is_a_404_naming_it(call: Any) -> None:
    assert call("GET", "/nothing") == (
        404,
        {"error": "NotFound", "message": "no route GET /nothing"},
    )
