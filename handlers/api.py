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
    POST /executions/{id}/resume            run a parked execution again (after a fix)
    GET  /executions/{id}/events[/stream]   its lifecycle stream, long-poll JSON or
                                            Server-Sent Events (``handlers.api_lifecycle``)
    POST /events/publish                    {"topic": ..., "events": [{"data", "event_type"}]}
    GET  /topics                            topics: last sequence id, subscribed workflows
    ...  /schedules...                      list, create, show, delete, pause, resume
                                            schedules (``handlers.api_schedules``)
    GET  /, /ui/{file}, /topics/recent      the web page of executions (``handlers.api_web``)

Every GET route answers HEAD too (the same status and headers, no body); every route
answers OPTIONS with an ``Allow`` header, and 405 with one to a method it does not serve.
Path parameters are percent-decoded. Bad input is a 400 (413 for a body too large) with a
JSON message naming the problem, raised before anything is written (``handlers.api_input``
has the rules); unknown ids are a 404; never a 5xx for bad input.
Responses stay under Lambda's 6 MB (``sdk.views``); a value too long for one is a 413.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import unquote

import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import LambdaFunctionUrlResolver, Response, content_types
from aws_lambda_powertools.utilities.typing import LambdaContext

from handlers.api_input import (
    BodyTooLarge,
    cancel_body,
    invoke_body,
    json_body,
    parse_limit,
    parse_steps,
    path_execution_id,
    path_parameter,
    publish_body,
    query,
)
from handlers.api_lifecycle import LIFECYCLE_ROUTES, add_lifecycle_routes
from handlers.api_schedules import SCHEDULE_ROUTES, add_schedule_routes
from handlers.api_web import WEB_ROUTES, add_web_routes
from handlers.config import (
    HandlerSettings,
    batch_feed_from_environ,
    journal_from_environ,
    schedule_backend_from_environ,
)
from sdk.app import App
from sdk.client import Client, ExecutionHandle, LambdaInvoker
from sdk.errors import (
    ExecutionConflictError,
    ExecutionNotFoundError,
    ExecutionNotRunnableError,
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
    published_view,
    topics_view,
    value_body,
    workflow_view,
)

logger = Logger(service="stepline-api")
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")  # OPTIONS is every route's
ROUTES = {  # rule -> the methods it serves
    "/workflows": ("GET", "HEAD"),
    "/workflows/<workflow_id>/invoke": ("POST",),
    "/executions": ("GET", "HEAD"),
    "/executions/<execution_id>": ("GET", "HEAD"),
    "/executions/<execution_id>/cancel": ("POST",),
    "/executions/<execution_id>/resume": ("POST",),
    "/events/publish": ("POST",),
    "/topics": ("GET", "HEAD"),
    **SCHEDULE_ROUTES,
    **LIFECYCLE_ROUTES,
    **WEB_ROUTES,
}


class ApiResolver(LambdaFunctionUrlResolver):
    """Powertools' Function URL resolver, answering HEAD like GET without the body."""

    def resolve(self, event: Mapping[str, Any], context: LambdaContext) -> dict[str, Any]:
        response = super().resolve(event, context)
        if event.get("requestContext", {}).get("http", {}).get("method") == "HEAD":
            response["body"] = ""
            response["isBase64Encoded"] = False
        return response


def _json(status: int, body: Any, headers: Mapping[str, str] | None = None) -> Response[Any]:
    return Response(status, content_types.APPLICATION_JSON, json.dumps(body), dict(headers or {}))


def _error(status: int, exc: Exception) -> Response[Any]:
    return _json(status, {"error": type(exc).__name__, "message": str(exc)})


def _error_handler(status: int) -> Callable[[Exception], Response[Any]]:
    return lambda exc: _error(status, exc)


def _options(allow: str) -> Callable[..., Response[Any]]:
    def answer(**_: str) -> Response[Any]:
        return Response(204, None, "", {"Allow": allow})

    return answer


def _not_allowed(api: LambdaFunctionUrlResolver, allow: str) -> Callable[..., Response[Any]]:
    def answer(**_: str) -> Response[Any]:
        event = api.current_event
        message = f"{event.http_method} is not allowed on {event.path}; allowed: {allow}"
        return _json(405, {"error": "MethodNotAllowed", "message": message}, {"Allow": allow})

    return answer


def _no_route(api: LambdaFunctionUrlResolver) -> Callable[[Exception], Response[Any]]:
    def answer(_: Exception) -> Response[Any]:
        event = api.current_event
        message = f"no route {event.http_method} {event.path}"
        return _json(404, {"error": "NotFound", "message": message})

    return answer


def _too_large(exc: Exception) -> Response[Any]:
    return _error(413, exc)


def _json_body(text: str) -> Response[Any]:
    return Response(200, content_types.APPLICATION_JSON, text)


def _add_value_routes(api: LambdaFunctionUrlResolver, client: Client) -> None:
    """The routes that return one stored value whole (views shorten long ones)."""

    @api.get("/executions/<execution_id>/input")
    def get_input(execution_id: str) -> Response[Any]:
        checked = path_execution_id(execution_id)
        text = client.get_execution(checked).input
        return _json_body(value_body(text, f"the input of execution {checked!r}"))

    @api.get("/executions/<execution_id>/output")
    def get_output(execution_id: str) -> Response[Any]:
        checked = path_execution_id(execution_id)
        text = client.get_execution(checked).output
        return _json_body(value_body(text, f"the output of execution {checked!r}"))

    @api.get("/executions/<execution_id>/steps/<step_key>/output")
    def get_step_output(execution_id: str, step_key: str) -> Response[Any]:
        execution_id = path_execution_id(execution_id)
        key = unquote(step_key)
        step = client.journal.load_steps(execution_id).get(key)
        if step is None:
            raise ExecutionNotFoundError(f"execution {execution_id!r} has no step {key!r}")
        return _json_body(value_body(step.output, f"the output of step {key!r}"))


def _add_event_routes(api: LambdaFunctionUrlResolver, client: Client) -> None:
    @api.route("/events/publish", method=list(ROUTES["/events/publish"]))
    def publish() -> Response[Any]:
        event = api.current_event
        topic, events = publish_body(json_body(event.body, event.is_base64_encoded))
        published = client.publish_events(topic, events)
        return _json(200, {"events": [published_view(p) for p in published]})

    @api.route("/topics", method=list(ROUTES["/topics"]))
    def topics() -> dict[str, Any]:
        return {"topics": topics_view(client.app, client.publisher.log.topics())}


def list_page(client: Client, params: Mapping[str, str]) -> dict[str, Any]:
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
    api = ApiResolver()

    def route(rule: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        return api.route(rule, method=list(ROUTES[rule]))

    def body() -> Any:
        return json_body(api.current_event.body, api.current_event.is_base64_encoded)

    @route("/workflows")
    def list_workflows() -> dict[str, Any]:
        return {"workflows": [workflow_view(wf) for wf in client.app]}

    @route("/workflows/<workflow_id>/invoke")
    def invoke(workflow_id: str) -> Response[Any]:
        payload, options = invoke_body(body())
        handle: ExecutionHandle[Any] = client.invoke(
            path_parameter(workflow_id), payload, **options
        )
        return _json(202, {"execution_id": handle.id, "workflow_id": handle.workflow_id})

    @route("/executions")
    def list_executions() -> dict[str, Any]:
        params = query(
            api.current_event.query_string_parameters, ("workflow_id", "status", "limit", "next")
        )
        return list_page(client, params)

    @route("/executions/<execution_id>/cancel")
    def cancel(execution_id: str) -> dict[str, Any]:
        checked = path_execution_id(execution_id)
        cancel_body(body())
        return execution_view(client.cancel(checked))

    @route("/executions/<execution_id>/resume")
    def resume(execution_id: str) -> dict[str, Any]:
        checked = path_execution_id(execution_id)
        cancel_body(body())  # no fields, as for cancel
        return execution_view(client.resume(checked))

    @route("/executions/<execution_id>")
    def get_execution(execution_id: str) -> dict[str, Any]:
        checked = path_execution_id(execution_id)
        with_steps = parse_steps(query(api.current_event.query_string_parameters, ("steps",)))
        record = client.get_execution(checked)
        if not with_steps:  # cheap status polling
            return detail_view(record, None)
        return detail_view(record, client.journal.load_steps(checked).values())

    _add_event_routes(api, client)
    _add_value_routes(api, client)
    add_schedule_routes(api, client, _error_handler, lambda body: _json(201, body))
    add_lifecycle_routes(api, client)
    add_web_routes(api, client)
    _answer_the_rest(api)
    return api


def _answer_the_rest(api: ApiResolver) -> None:
    """OPTIONS and 405 for every route, 404 elsewhere, and the status of each error."""
    for rule, methods in ROUTES.items():
        allow = ", ".join((*methods, "OPTIONS"))
        api.route(rule, method="OPTIONS")(_options(allow))
        api.route(rule, method=[m for m in METHODS if m not in methods])(_not_allowed(api, allow))
    # Registered by call: Powertools' decorator is untyped. Lookup follows the MRO, so
    # the SteplineError entry answers for every domain error not listed before it
    # (BadRequest, InvalidPayloadError, SerializationError, InvalidExecutionIdError...).
    api.not_found(_no_route(api))
    api.exception_handler([WorkflowNotFoundError, ExecutionNotFoundError])(_error_handler(404))
    api.exception_handler([ExecutionConflictError, ExecutionNotRunnableError])(_error_handler(409))
    api.exception_handler([BodyTooLarge, ResponseTooLargeError])(_error_handler(413))
    api.exception_handler(SteplineError)(_error_handler(400))


def build_client_from_environment() -> Client:
    settings = HandlerSettings.from_environ()
    journal = journal_from_environ(settings)
    invoker = LambdaInvoker(boto3.client("lambda"), os.environ["STEPLINE_RUNNER_FUNCTION"])
    return Client(
        App.from_modules(settings.app_modules),
        journal,
        invoker,
        batches=batch_feed_from_environ(),
        schedule_backend=schedule_backend_from_environ(),
    )


_resolver: LambdaFunctionUrlResolver | None = None


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The Lambda entry point."""
    global _resolver
    if _resolver is None:
        _resolver = make_resolver(build_client_from_environment())
    return _resolver.resolve(event, context)
