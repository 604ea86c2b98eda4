"""The HTTP API's schedule routes (``client.schedules``), added by ``handlers.api``.

    GET    /schedules[?workflow_id=]               schedules with their next three times
    POST   /schedules                              create: {"workflow_id", "cron",
                                                   "timezone", "key", "overlap"}
    GET    /schedules/{workflow_id}/{key}          one schedule
    DELETE /schedules/{workflow_id}/{key}          delete one created at run time
    POST   /schedules/{workflow_id}/{key}/pause    its ticks start nothing until resumed
    POST   /schedules/{workflow_id}/{key}/resume

A bad cron, timezone, key or overlap is a 400 naming it; an unknown workflow or schedule a
404; a key the workflow already uses for another schedule (or deleting one declared in code)
a 409. Nothing is written for a refused request.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.event_handler import LambdaFunctionUrlResolver, Response

from handlers.api_input import BadRequest, cancel_body, json_body, path_parameter, query
from sdk.client import Client
from sdk.errors import ScheduleConflictError, ScheduleNotFoundError

SCHEDULE_ROUTES = {  # rule -> the methods it serves
    "/schedules": ("GET", "HEAD", "POST"),
    "/schedules/<workflow_id>/<key>": ("GET", "HEAD", "DELETE"),
    "/schedules/<workflow_id>/<key>/pause": ("POST",),
    "/schedules/<workflow_id>/<key>/resume": ("POST",),
}
CREATE_FIELDS = ("workflow_id", "cron", "timezone", "key", "overlap")


def create_body(value: Any) -> dict[str, str]:
    """``{"workflow_id": ..., "cron": ..., "timezone", "key", "overlap"}`` (the last three
    optional) -> keyword arguments of ``client.schedules.create``."""
    if not isinstance(value, dict):
        raise BadRequest(
            'the request body must be an object: {"workflow_id": ..., "cron": ..., '
            '"timezone": ..., "key": ..., "overlap": ...}'
        )
    unknown = set(value) - set(CREATE_FIELDS)
    if unknown:
        names = ", ".join(sorted(name[:40] for name in unknown))
        raise BadRequest(f"unknown fields: {names} (known: {', '.join(CREATE_FIELDS)})")
    for name in ("workflow_id", "cron"):
        if name not in value:
            raise BadRequest(f"{name} is required")
    for name, field in value.items():
        if not isinstance(field, str):
            raise BadRequest(f"{name} must be a string, got {type(field).__name__}")
    return dict(value)


def add_schedule_routes(
    api: LambdaFunctionUrlResolver,
    client: Client,
    error: Callable[[int], Callable[[Exception], Response[Any]]],
    created: Callable[[dict[str, Any]], Response[Any]],
) -> None:
    """Register the schedule routes on ``api``; ``error(status)`` answers an exception,
    ``created(body)`` a 201."""

    def body() -> Any:
        return json_body(api.current_event.body, api.current_event.is_base64_encoded)

    @api.route("/schedules", method=["GET", "HEAD"])
    def list_schedules() -> dict[str, Any]:
        params = query(api.current_event.query_string_parameters, ("workflow_id",))
        found = client.schedules.list(params.get("workflow_id") or None)
        return {"schedules": [info.to_dict() for info in found]}

    @api.route("/schedules", method=["POST"])
    def create_schedule() -> Response[Any]:
        fields = create_body(body())
        workflow_id, cron = fields.pop("workflow_id"), fields.pop("cron")
        return created(client.schedules.create(workflow_id, cron, **fields).to_dict())

    @api.route("/schedules/<workflow_id>/<key>", method=["GET", "HEAD"])
    def get_schedule(workflow_id: str, key: str) -> dict[str, Any]:
        return client.schedules.get(path_parameter(workflow_id), path_parameter(key)).to_dict()

    @api.route("/schedules/<workflow_id>/<key>", method=["DELETE"])
    def delete_schedule(workflow_id: str, key: str) -> dict[str, Any]:
        workflow_id, key = path_parameter(workflow_id), path_parameter(key)
        client.schedules.delete(workflow_id, key)
        return {"deleted": f"{workflow_id}:{key}"}

    @api.route("/schedules/<workflow_id>/<key>/pause", method=["POST"])
    def pause_schedule(workflow_id: str, key: str) -> dict[str, Any]:
        cancel_body(body())  # no fields
        return client.schedules.pause(path_parameter(workflow_id), path_parameter(key)).to_dict()

    @api.route("/schedules/<workflow_id>/<key>/resume", method=["POST"])
    def resume_schedule(workflow_id: str, key: str) -> dict[str, Any]:
        cancel_body(body())
        return client.schedules.resume(path_parameter(workflow_id), path_parameter(key)).to_dict()

    api.exception_handler(ScheduleNotFoundError)(error(404))
    api.exception_handler(ScheduleConflictError)(error(409))
