"""JSON views of workflows, executions and steps, as the HTTP API and the CLI show them.

A Lambda response holds 6 MB, so the API's views keep under ``RESPONSE_BUDGET``: a
value longer than the view's ``shorten`` limit is replaced by a marker
(``{"shortened": true, "bytes": N, "preview": "...", "path": "/executions/..."}``)
naming the path that returns it whole; a listing stops where the budget ends and
gives a cursor (``encode_cursor``) for the rest.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import quote

from sdk.errors import SteplineError
from sdk.events.topics import Published, matches
from sdk.failures import ErrorInfo
from sdk.journal.records import ExecutionRecord, StepRecord, iso, parse_iso
from sdk.sizes import truncated, utf8_len
from sdk.workflow import Workflow

# Lambda's response payload limit is 6 MB (6,291,456 bytes); keep room for the envelope.
RESPONSE_BUDGET = 6_000_000
DETAIL_VALUE = 64 * 1024  # values longer than this are shortened in one execution's view
LIST_VALUE = 512  # ... and in listings, where errors keep no traceback either


class ResponseTooLargeError(SteplineError):
    """A response would exceed what a Lambda function can return (HTTP 413)."""


def response_size(body: Any) -> int:
    """The bytes ``body`` takes in a Lambda response (as JSON text inside JSON)."""
    return len(json.dumps(json.dumps(body, separators=(",", ":"))))


def _json(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def _value(text: str | None, size: int | None, path: str, shorten: int | None) -> Any:
    """The value of ``text``, or a marker when it is longer than ``shorten`` or not loaded."""
    if text is None and size is None:
        return None
    length = utf8_len(text) if text is not None else size or 0
    if text is not None and (shorten is None or length <= shorten):
        return json.loads(text)
    preview = "" if text is None else truncated(text, shorten or 0)
    return {"shortened": True, "bytes": length, "preview": preview, "path": path}


def _error(error: ErrorInfo | None, shorten: int | None) -> dict[str, str] | None:
    if error is None:
        return None
    if shorten is None:
        return error.to_dict()
    traceback = "" if shorten <= LIST_VALUE else truncated(error.traceback, shorten)
    return {"type": error.type, "message": truncated(error.message, shorten),
            "traceback": traceback}  # fmt: skip


def execution_path(execution_id: str, *parts: str) -> str:
    return "/".join(["/executions", quote(execution_id, safe=""), *parts])


def published_view(published: Published) -> dict[str, Any]:
    return {
        "id": published.id,
        "sequence_id": published.sequence_id,
        "topic": published.topic,
        "duplicate": published.duplicate,
    }


def topics_view(
    workflows: Iterable[Workflow[Any]], last: Mapping[str, int]
) -> list[dict[str, Any]]:
    """Each topic with events or subscribers: its last sequence id and the workflows it
    triggers (batched ones included; a pattern such as ``order/*`` is listed as such)."""
    handlers = [wf for wf in workflows if wf.trigger_on_event is not None]
    names = set(last) | {wf.trigger_on_event for wf in handlers if wf.trigger_on_event}
    return [
        {
            "topic": name,
            "last_sequence_id": last.get(name, 0),
            "subscribers": sorted(
                wf.id
                for wf in handlers
                if wf.trigger_on_event is not None and matches(wf.trigger_on_event, name)
            ),
        }
        for name in sorted(names)
    ]


def workflow_view(wf: Workflow[Any]) -> dict[str, Any]:
    return {
        "id": wf.id,
        "trigger_on_event": wf.trigger_on_event,
        "event_types": None if wf.event_types is None else sorted(wf.event_types),
        "batch_size": wf.batch_size,
        "batch_timeout_seconds": wf.batch_timeout_seconds,
        "schedule": None
        if wf.schedule is None
        else {
            "cron": wf.schedule.cron,
            "timezone": wf.schedule.timezone,
            "key": wf.schedule.key,
            "overlap": wf.schedule.overlap,
        },
    }


def step_view(
    step: StepRecord, execution_id: str = "", shorten: int | None = None
) -> dict[str, Any]:
    took = None
    if step.started_at is not None and step.finished_at is not None:
        took = round((step.finished_at - step.started_at).total_seconds() * 1000, 3)
    return {
        "key": step.key,
        "position": step.position,
        "step_type": step.step_type,
        "callable": step.callable_name,
        "status": step.status.value,
        "attempts": step.attempts,
        "started_at": None if step.started_at is None else iso(step.started_at),
        "finished_at": None if step.finished_at is None else iso(step.finished_at),
        "duration_ms": took,
        "output": _value(step.output, None, _step_path(execution_id, step.key), shorten),
        "error": _error(step.error, shorten),
    }


def _step_path(execution_id: str, key: str) -> str:
    return execution_path(execution_id, "steps", quote(key, safe=""), "output")


def execution_view(
    record: ExecutionRecord,
    steps: Iterable[StepRecord] | None = None,
    *,
    shorten: int | None = None,
) -> dict[str, Any]:
    """The execution (with ``steps`` if given); values past ``shorten`` bytes marked."""
    eid = record.execution_id
    view: dict[str, Any] = {
        "execution_id": record.execution_id,
        "workflow_id": record.workflow_id,
        "status": record.status.value,
        "cancel_requested": record.cancel_requested,
        "created_at": iso(record.created_at),
        "started_at": None if record.started_at is None else iso(record.started_at),
        "finished_at": None if record.finished_at is None else iso(record.finished_at),
        "attempt": record.attempt,
        "parent_execution_id": record.parent_execution_id,
        "root_execution_id": record.root_id,
        "input": _value(record.input, record.input_bytes, execution_path(eid, "input"), shorten),
        "output": _value(
            record.output, record.output_bytes, execution_path(eid, "output"), shorten
        ),
        "error": _error(record.error, shorten),
    }
    if steps is not None:
        ordered = sorted((s for s in steps if not s.bookkeeping), key=lambda s: (s.position, s.key))
        view["steps"] = [step_view(step, eid, shorten) for step in ordered]
    return view


def detail_view(record: ExecutionRecord, steps: Iterable[StepRecord] | None) -> dict[str, Any]:
    """One execution as ``GET /executions/{id}`` returns it: under ``RESPONSE_BUDGET``.

    Values are shortened past ``DETAIL_VALUE`` bytes, past ``LIST_VALUE`` if that is not
    enough; a view still too large (a great many steps) is refused.
    """
    steps = None if steps is None else list(steps)
    for shorten in (DETAIL_VALUE, LIST_VALUE):
        view = execution_view(record, steps, shorten=shorten)
        if response_size(view) <= RESPONSE_BUDGET:
            return view
    raise ResponseTooLargeError(
        f"execution {record.execution_id!r} has too many steps for one response "
        f"({len(steps or [])}); ask for it with ?steps=false"
    )


def page_view(records: Iterable[ExecutionRecord]) -> tuple[list[dict[str, Any]], int]:
    """Listed executions (values shortened past ``LIST_VALUE``) that fit one response,
    and how many of ``records`` they are."""
    views: list[dict[str, Any]] = []
    used = 0
    for record in records:
        view = execution_view(record, shorten=LIST_VALUE)
        used += response_size(view)
        if used > RESPONSE_BUDGET - 1024:
            break
        views.append(view)
    return views, len(views)


def value_body(text: str | None, what: str) -> str:
    """A whole stored value as a response body, if it fits one."""
    body = "null" if text is None else text
    size = len(json.dumps(body))
    if size > RESPONSE_BUDGET:
        raise ResponseTooLargeError(
            f"{what} is {utf8_len(body)} bytes of JSON, more than a Lambda response holds "
            "(6 MB); read it with the SDK (Client.get_execution or the journal)"
        )
    return body


def encode_cursor(record: ExecutionRecord) -> str:
    """The ``next`` token after ``record`` in a listing."""
    raw = json.dumps([iso(record.created_at), record.execution_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(token: str) -> tuple[datetime, str]:
    """The ``(created_at, execution_id)`` a ``next`` token stands for."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        created_at, execution_id = json.loads(raw)
        return parse_iso(created_at), str(execution_id)
    except (binascii.Error, ValueError, TypeError) as exc:
        raise SteplineError(f"next must be a token from a previous page, got {token!r}") from exc
