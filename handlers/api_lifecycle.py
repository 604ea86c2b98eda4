"""The HTTP API's lifecycle stream routes, added by ``handlers.api``.

    GET /executions/{id}/events?after=&wait=         long poll: JSON
                                                     {"events", "last_sequence_id", "done"}
    GET /executions/{id}/events/stream?after=&wait=  the same as Server-Sent Events

Both answer as soon as there are events after ``after`` (or the stream is over), or after
``wait`` seconds (at most ``MAX_WAIT``) with none. A Python Lambda cannot stream a
response, so the SSE route sends what it has and ends; a browser's ``EventSource``
reconnects by itself with ``Last-Event-ID`` (honoured, ahead of ``after``), and gets a 204
once the stream is over, which tells it to stop.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools.event_handler import LambdaFunctionUrlResolver, Response

from handlers.api_input import BadRequest, path_execution_id, query
from sdk.client import Client
from sdk.lifecycle.follow import JournalSource
from sdk.lifecycle.stream import StreamPage

LIFECYCLE_ROUTES = {  # rule -> the methods it serves
    "/executions/<execution_id>/events": ("GET", "HEAD"),
    "/executions/<execution_id>/events/stream": ("GET", "HEAD"),
}
MAX_WAIT = 20.0  # seconds: under the API function's 30-second timeout
MAX_EVENTS = 1000  # per response, well under Lambda's 6 MB
SSE_DEFAULT_WAIT = 10.0
RECONNECT_MS = 100  # how soon an EventSource comes back for more


def parse_after(raw: str | None, what: str = "after") -> int | None:
    if raw is None or raw == "":
        return None
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 18:  # not '²', not '١٢'
        raise BadRequest(f"{what} must be a sequence id (a whole number >= 0), got {raw[:40]!r}")
    return int(raw)


def parse_wait(raw: str | None, default: float) -> float:
    if raw is None:
        return default
    try:
        wait = float(raw)
    except ValueError:
        raise BadRequest(f"wait must be a number of seconds, got {raw[:40]!r}") from None
    if not 0 <= wait <= MAX_WAIT:
        raise BadRequest(f"wait must be from 0 to {MAX_WAIT:g} seconds, got {raw[:40]}")
    return wait


def _page(client: Client, execution_id: str, after: int | None, wait: float) -> StreamPage:
    client.get_execution(execution_id)  # an unknown id is a 404 before any waiting
    page = JournalSource(client.journal, client.clock).page(execution_id, after, wait)
    if len(page.events) > MAX_EVENTS:  # the rest comes with the next request
        kept = page.events[:MAX_EVENTS]
        return StreamPage(kept, False, kept[-1].sequence_id)
    return page


def sse_body(page: StreamPage) -> str:
    """``page`` as Server-Sent Events: one per lifecycle event, ``id`` its sequence id."""
    lines = [f"retry: {RECONNECT_MS}", ""]
    for event in page.events:
        lines += [
            f"id: {event.sequence_id}",
            f"event: {event.event_type.value}",
            f"data: {json.dumps(event.to_dict(), separators=(',', ':'))}",
            "",
        ]
    if page.done:
        lines += ["event: end", "data: {}", ""]
    return "\n".join(lines) + "\n"


def add_lifecycle_routes(api: LambdaFunctionUrlResolver, client: Client) -> None:
    def params(known: tuple[str, ...]) -> Mapping[str, str]:
        return query(api.current_event.query_string_parameters, known)

    @api.route("/executions/<execution_id>/events", method=["GET", "HEAD"])
    def events(execution_id: str) -> dict[str, Any]:
        given = params(("after", "wait"))
        after, wait = parse_after(given.get("after")), parse_wait(given.get("wait"), 0.0)
        page = _page(client, path_execution_id(execution_id), after, wait)
        return {
            "events": [e.to_dict() for e in page.events],
            "last_sequence_id": page.last_sequence_id,
            "done": page.done,
        }

    @api.route("/executions/<execution_id>/events/stream", method=["GET", "HEAD"])
    def stream(execution_id: str) -> Response[Any]:
        given = params(("after", "wait"))
        header = api.current_event.headers.get("last-event-id")
        after = parse_after(header, "Last-Event-ID") if header else None
        after = parse_after(given.get("after")) if after is None else after
        wait = parse_wait(given.get("wait"), SSE_DEFAULT_WAIT)
        page = _page(client, path_execution_id(execution_id), after, wait)
        if page.done and not page.events:  # over: a 204 tells an EventSource to stop
            return Response(204, None, "")
        return Response(
            200,
            "text/event-stream",
            sse_body(page),
            headers={"Cache-Control": "no-cache"},
        )
