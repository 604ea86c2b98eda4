"""The HTTP API (a Lambda Function URL), routed by Powertools' event handler.

    GET  /workflows                         the app's workflows
    POST /workflows/{id}/invoke             start one: {"payload": ..., "execution_id": ...}
    GET  /executions?workflow_id=&status=&limit=&next=
                                            executions, newest first, a page at a time
    GET  /executions/{id}[?steps=false]     one execution with its steps (or without)
    GET  /executions/{id}/input             a value whole (views shorten long ones)
    GET  /executions/{id}/output
    GET  /executions/{id}/steps/{key}/output
    POST /executions/{id}/cancel            cancel it and its children

Bad input is a 400 with a message, unknown ids a 404; never a 500 for bad input.
Responses stay under Lambda's 6 MB (``sdk.views``); a value too long for one is a 413.
"""

from __future__ import annotations

import json
import os
from typing import Any
from urllib.parse import unquote

import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import LambdaFunctionUrlResolver, Response, content_types

from handlers.config import HandlerSettings, journal_from_environ
from sdk.app import App
from sdk.client import Client, ExecutionHandle, LambdaInvoker
from sdk.errors import (
    ExecutionConflictError,
    ExecutionNotFoundError,
    InvalidPayloadError,
    SerializationError,
    SteplineError,
    WorkflowNotFoundError,
)
from sdk.views import (
    ResponseTooLargeError,
    decode_cursor,
    detail_view,
    encode_cursor,
    execution_view,
    page_view,
    value_body,
    workflow_view,
)

logger = Logger(service="stepline-api")
INVOKE_OPTIONS = ("execution_id", "user_id", "session_id")


class BadRequest(SteplineError):
    """The request itself is malformed."""


def _error(status: int, exc: Exception) -> Response[Any]:
    body = {"error": type(exc).__name__, "message": str(exc)}
    return Response(status, content_types.APPLICATION_JSON, json.dumps(body))


def parse_invoke_body(raw: str | None) -> tuple[Any, dict[str, str]]:
    """``{"payload": ..., "execution_id": ..., ...}`` -> (payload, options)."""
    try:
        body = json.loads(raw or "{}")
    except json.JSONDecodeError as exc:
        raise BadRequest(f"the request body is not JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise BadRequest('the request body must be an object: {"payload": ...}')
    unknown = set(body) - {"payload", *INVOKE_OPTIONS}
    if unknown:
        raise BadRequest(f"unknown fields: {', '.join(sorted(unknown))}")
    options = {name: body[name] for name in INVOKE_OPTIONS if body.get(name) is not None}
    for name, value in options.items():
        if not isinstance(value, str) or not value:
            raise BadRequest(f"{name} must be a non-empty string")
    return body.get("payload"), options


def parse_limit(params: dict[str, str]) -> int:
    try:
        limit = int(params.get("limit", "100"))
    except ValueError as exc:
        raise BadRequest(f"limit must be a whole number, got {params['limit']!r}") from exc
    if not 1 <= limit <= 1000:
        raise BadRequest(f"limit must be from 1 to 1000, got {limit}")
    return limit


def _not_found(exc: Exception) -> Response[Any]:
    return _error(404, exc)


def _conflict(exc: Exception) -> Response[Any]:
    return _error(409, exc)


def _bad_request(exc: Exception) -> Response[Any]:
    return _error(400, exc)


def _too_large(exc: Exception) -> Response[Any]:
    return _error(413, exc)


def _json_body(text: str) -> Response[Any]:
    return Response(200, content_types.APPLICATION_JSON, text)


def _add_value_routes(api: LambdaFunctionUrlResolver, client: Client) -> None:
    """The routes that return one stored value whole (views shorten long ones)."""

    @api.get("/executions/<execution_id>/input")
    def get_input(execution_id: str) -> Response[Any]:
        text = client.get_execution(execution_id).input
        return _json_body(value_body(text, f"the input of execution {execution_id!r}"))

    @api.get("/executions/<execution_id>/output")
    def get_output(execution_id: str) -> Response[Any]:
        text = client.get_execution(execution_id).output
        return _json_body(value_body(text, f"the output of execution {execution_id!r}"))

    @api.get("/executions/<execution_id>/steps/<step_key>/output")
    def get_step_output(execution_id: str, step_key: str) -> Response[Any]:
        key = unquote(step_key)
        step = client.journal.load_steps(execution_id).get(key)
        if step is None:
            raise ExecutionNotFoundError(f"execution {execution_id!r} has no step {key!r}")
        return _json_body(value_body(step.output, f"the output of step {key!r}"))


def list_page(client: Client, params: dict[str, str]) -> dict[str, Any]:
    """One page of ``GET /executions``: at most ``limit``, within the response budget."""
    limit = parse_limit(params)
    token = params.get("next")
    records = client.list_executions(
        workflow_id=params.get("workflow_id") or None,
        status=params.get("status") or None,
        limit=limit + 1,  # one more tells whether there is a next page
        load_values=False,
        before=None if not token else decode_cursor(token),
    )
    views, shown = page_view(records[:limit])
    more = shown < len(records)
    cursor = encode_cursor(records[shown - 1]) if more and shown else None
    return {"executions": views, "next": cursor}


def make_resolver(client: Client) -> LambdaFunctionUrlResolver:
    """The API's routes, bound to ``client``."""
    api = LambdaFunctionUrlResolver()

    @api.get("/workflows")
    def list_workflows() -> dict[str, Any]:
        return {"workflows": [workflow_view(wf) for wf in client.app]}

    @api.post("/workflows/<workflow_id>/invoke")
    def invoke(workflow_id: str) -> Response[Any]:
        payload, options = parse_invoke_body(api.current_event.body)
        handle: ExecutionHandle[Any] = client.invoke(workflow_id, payload, **options)
        view = {"execution_id": handle.id, "workflow_id": handle.workflow_id}
        return Response(202, content_types.APPLICATION_JSON, json.dumps(view))

    @api.get("/executions")
    def list_executions() -> dict[str, Any]:
        return list_page(client, api.current_event.query_string_parameters or {})

    @api.post("/executions/<execution_id>/cancel")
    def cancel(execution_id: str) -> dict[str, Any]:
        return execution_view(client.cancel(execution_id))

    @api.get("/executions/<execution_id>")
    def get_execution(execution_id: str) -> dict[str, Any]:
        record = client.get_execution(execution_id)
        params = api.current_event.query_string_parameters or {}
        if params.get("steps", "true") == "false":  # cheap status polling
            return detail_view(record, None)
        return detail_view(record, client.journal.load_steps(execution_id).values())

    _add_value_routes(api, client)

    # Registered by call: Powertools' decorator is untyped. Lookup follows the MRO, so
    # the SteplineError entry answers for every domain error not listed before it.
    api.exception_handler([WorkflowNotFoundError, ExecutionNotFoundError])(_not_found)
    api.exception_handler(ExecutionConflictError)(_conflict)
    api.exception_handler(ResponseTooLargeError)(_too_large)
    api.exception_handler([InvalidPayloadError, SerializationError, SteplineError])(_bad_request)
    return api


def build_client_from_environment() -> Client:
    settings = HandlerSettings.from_environ()
    journal = journal_from_environ(settings)
    invoker = LambdaInvoker(boto3.client("lambda"), os.environ["STEPLINE_RUNNER_FUNCTION"])
    return Client(App.from_modules(settings.app_modules), journal, invoker)


_resolver: LambdaFunctionUrlResolver | None = None


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The Lambda entry point."""
    global _resolver
    if _resolver is None:
        _resolver = make_resolver(build_client_from_environment())
    return _resolver.resolve(event, context)
