"""The HTTP API (a Lambda Function URL), routed by Powertools' event handler.

    GET  /workflows                         the app's workflows
    POST /workflows/{id}/invoke             start one: {"payload": ..., "execution_id": ...}
    GET  /executions?workflow_id=&status=   executions, newest first
    GET  /executions/{id}[?steps=false]     one execution with its steps (or without)
    POST /executions/{id}/cancel            cancel it and its children
    POST /executions/{id}/resume            run a parked execution again (after a fix)

Bad input is a 400 with a message, unknown ids a 404; never a 500 for bad input.
"""

from __future__ import annotations

import json
import os
from typing import Any

import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import LambdaFunctionUrlResolver, Response, content_types

from handlers.config import HandlerSettings
from sdk.app import App
from sdk.client import Client, ExecutionHandle, LambdaInvoker
from sdk.errors import (
    ExecutionConflictError,
    ExecutionNotFoundError,
    ExecutionNotRunnableError,
    InvalidPayloadError,
    SerializationError,
    SteplineError,
    WorkflowNotFoundError,
)
from sdk.journal.dynamodb import DynamoJournal, client_config
from sdk.views import execution_view, workflow_view

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
        params = api.current_event.query_string_parameters or {}
        records = client.list_executions(
            workflow_id=params.get("workflow_id") or None,
            status=params.get("status") or None,
            limit=parse_limit(params),
        )
        return {"executions": [execution_view(record) for record in records]}

    @api.post("/executions/<execution_id>/cancel")
    def cancel(execution_id: str) -> dict[str, Any]:
        return execution_view(client.cancel(execution_id))

    @api.post("/executions/<execution_id>/resume")
    def resume(execution_id: str) -> dict[str, Any]:
        return execution_view(client.resume(execution_id))

    @api.get("/executions/<execution_id>")
    def get_execution(execution_id: str) -> dict[str, Any]:
        record = client.get_execution(execution_id)
        params = api.current_event.query_string_parameters or {}
        if params.get("steps", "true") == "false":  # cheap status polling
            return execution_view(record)
        return execution_view(record, client.journal.load_steps(execution_id).values())

    # Registered by call: Powertools' decorator is untyped. Lookup follows the MRO, so
    # the SteplineError entry answers for every domain error not listed before it.
    api.exception_handler([WorkflowNotFoundError, ExecutionNotFoundError])(_not_found)
    api.exception_handler([ExecutionConflictError, ExecutionNotRunnableError])(_conflict)
    api.exception_handler([InvalidPayloadError, SerializationError, SteplineError])(_bad_request)
    return api


def build_client_from_environment() -> Client:
    settings = HandlerSettings.from_environ()
    journal = DynamoJournal(boto3.client("dynamodb", config=client_config()), settings.table_name)
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
