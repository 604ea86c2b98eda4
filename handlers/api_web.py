"""The web page of executions, served by the HTTP API itself (``handlers.api`` adds it).

    GET /                        the page (``handlers/web/index.html``)
    GET /ui/{name}               its stylesheet and scripts, cached for good: the page asks
                                 for them as ``/ui/{name}?v={version}``, a hash of the files
    GET /topics/recent?limit=    every topic (as ``GET /topics``) with its newest events
                                 (newest first) and the executions waiting on it: the
                                 page's topics view in one request

The files are plain HTML, CSS and JavaScript shipped in the package (no build step, nothing
fetched from elsewhere: the page works offline). They are read once per execution
environment. Everything else the page shows comes from the API's JSON routes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from functools import cache
from importlib import resources
from typing import Any

from aws_lambda_powertools.event_handler import LambdaFunctionUrlResolver, Response

from handlers.api_input import BadRequest, parse_limit, query
from sdk.client import Client
from sdk.sizes import truncated
from sdk.views import LIST_VALUE, topics_view

WEB_ROUTES = {  # rule -> the methods it serves
    "/": ("GET", "HEAD"),
    "/ui/<name>": ("GET", "HEAD"),
    "/topics/recent": ("GET", "HEAD"),
}
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
}
SECURITY_HEADERS = {
    # the page loads nothing but its own files and the API's JSON
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; "
    "img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
VERSION_MARK = "__VERSION__"  # in index.html, replaced by the files' hash
TOPIC_EVENTS = 5  # events the topics view shows per topic by default
MAX_TOPICS = 100  # topics in one answer
MAX_EVENTS_PER_TOPIC = 50  # so one answer stays far under Lambda's 6 MB


@cache
def web_files() -> dict[str, str]:
    """The page's files by name (``index.html``, ``app.css``, ...), as text."""
    folder = resources.files("handlers") / "web"
    return {
        entry.name: entry.read_text(encoding="utf-8")
        for entry in folder.iterdir()
        if entry.is_file() and any(entry.name.endswith(ext) for ext in CONTENT_TYPES)
    }


@cache
def version() -> str:
    """A hash of the page's files: a new version is a new asset URL, so no stale cache."""
    digest = hashlib.sha256()
    for name, text in sorted(web_files().items()):
        digest.update(name.encode() + b"\0" + text.encode() + b"\0")
    return digest.hexdigest()[:12]


def content_type(name: str) -> str:
    return CONTENT_TYPES["." + name.rsplit(".", 1)[-1]]


def _file(name: str, cache_control: str) -> Response[Any]:
    text = web_files()[name]
    if name == "index.html":
        text = text.replace(VERSION_MARK, version())
    headers = {**SECURITY_HEADERS, "Cache-Control": cache_control}
    return Response(200, content_type(name), text, headers)


def _not_found(message: str) -> Response[Any]:
    body = json.dumps({"error": "NotFound", "message": message})
    return Response(404, "application/json", body)


def recent_topics(client: Client, limit: int) -> dict[str, Any]:
    """Each topic of ``GET /topics`` (at most ``MAX_TOPICS``) with ``topic_events``."""
    listed = topics_view(client.app, client.publisher.log.topics())[:MAX_TOPICS]
    return {"topics": [{**view, **topic_events(client, view["topic"], limit)} for view in listed]}


def topic_events(client: Client, topic: str, limit: int) -> dict[str, Any]:
    """``topic``'s newest ``limit`` events (data shortened as in listings) and its waiters
    (none for a pattern such as ``order/*``: it has no events of its own)."""
    log = client.publisher.log
    last = log.last_sequence(topic)
    events = log.read_back(topic, upto=last, limit=limit) if last else []
    views = []
    for event in events:
        view = event.to_json()
        text = json.dumps(view["data"])
        if len(text) > LIST_VALUE:
            view["data"] = {"shortened": True, "preview": truncated(text, LIST_VALUE)}
        views.append(view)
    waiting = [{"execution_id": w.execution_id, "step_key": w.key} for w in log.waiters(topic)]
    return {"topic": topic, "last_sequence_id": last, "events": views, "waiting": waiting}


def add_web_routes(api: LambdaFunctionUrlResolver, client: Client) -> None:
    """Register the page's routes on ``api`` (OPTIONS and 405 come with ``WEB_ROUTES``)."""

    def route(rule: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        return api.route(rule, method=list(WEB_ROUTES[rule]))

    @route("/")
    def page() -> Response[Any]:
        return _file("index.html", "no-cache")

    @route("/ui/<name>")
    def asset(name: str) -> Response[Any]:
        if name == "index.html" or name not in web_files():
            return _not_found(f"the page has no file {name[:80]!r}")
        return _file(name, "public, max-age=31536000, immutable")

    @route("/topics/recent")
    def recent() -> dict[str, Any]:
        params = query(api.current_event.query_string_parameters, ("limit",))
        limit = parse_limit({"limit": params.get("limit", str(TOPIC_EVENTS))})
        if limit > MAX_EVENTS_PER_TOPIC:
            raise BadRequest(f"limit must be from 1 to {MAX_EVENTS_PER_TOPIC}, got {limit}")
        return recent_topics(client, limit)
