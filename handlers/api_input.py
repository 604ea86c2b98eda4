"""The HTTP API's input rules: what a request body, a path parameter or a query may hold.

Every refusal is a ``BadRequest`` (400) or a ``BodyTooLarge`` (413) naming the problem,
raised before the API calls the client, so a refused request writes nothing. The rules:

* a body is at most ``MAX_BODY_BYTES``, UTF-8 (base64 on the wire when the Function URL
  says so) and one JSON value with no ``NaN``/``Infinity``, no number over
  ``MAX_NUMBER_DIGITS`` digits or out of a float's range, no lone surrogate, and no
  nesting deeper than ``MAX_DEPTH``;
* an invoke body is an object of ``payload`` and the invoke options; a cancel body is
  empty or ``{}``;
* path parameters are percent-decoded; execution ids then follow ``check_execution_id``;
* a query names only the parameters its route reads.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import unquote

from sdk.errors import SteplineError
from sdk.ids import check_execution_id

MAX_BODY_BYTES = 512 * 1024  # an execution's input must fit one journal item anyway
MAX_DEPTH = 100  # arrays and objects within each other
MAX_NUMBER_DIGITS = 4300  # Python's int-string conversion limit (sys.get_int_max_str_digits)
INVOKE_OPTIONS = ("execution_id", "user_id", "session_id")
_WHOLE_NUMBER = re.compile(r"-?[0-9]+")


class BadRequest(SteplineError):
    """The request itself is malformed (HTTP 400)."""


class BodyTooLarge(BadRequest):
    """The request body is larger than the API takes (HTTP 413)."""


def json_body(body: str | None, is_base64: bool | None) -> Any:
    """The request body (as a Function URL event carries it) parsed as JSON; None if empty."""
    if not body:
        return None
    data = _body_bytes(body, bool(is_base64))
    if len(data) > MAX_BODY_BYTES:
        raise BodyTooLarge(
            f"the request body is {len(data)} bytes; the API takes at most {MAX_BODY_BYTES}"
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadRequest(
            f"the request body is not UTF-8: byte 0x{data[exc.start]:02x} at offset {exc.start}"
        ) from None
    value = _parse(text)
    _check_nesting(value)
    return value


def _body_bytes(body: str, is_base64: bool) -> bytes:
    if not is_base64:
        return body.encode("utf-8", "surrogatepass")  # a lone surrogate fails the decode
    try:
        return base64.b64decode(body, validate=True)
    except binascii.Error as exc:
        raise BadRequest(f"the request body is not valid base64: {exc}") from None


def _parse(text: str) -> Any:
    try:
        return json.loads(
            text, parse_int=_parse_int, parse_float=_parse_float, parse_constant=_no_constant
        )
    except RecursionError:
        raise BadRequest(
            f"the request body nests deeper than {MAX_DEPTH} arrays or objects"
        ) from None
    except json.JSONDecodeError as exc:
        raise BadRequest(f"the request body is not JSON: {exc}") from None


def _parse_int(text: str) -> int:
    digits = len(text.lstrip("-"))
    if digits > MAX_NUMBER_DIGITS:
        raise BadRequest(
            f"the request body has a number of {digits} digits; "
            f"at most {MAX_NUMBER_DIGITS} are accepted"
        )
    return int(text)


def _parse_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        shown = text if len(text) <= 40 else text[:40] + "..."
        raise BadRequest(f"the request body has a number out of range: {shown}")
    return value


def _no_constant(name: str) -> Any:
    raise BadRequest(f"the request body is not JSON: {name} is not a JSON value")


def _check_nesting(value: Any) -> None:
    """Refuse nesting deeper than ``MAX_DEPTH`` and strings that are not valid Unicode."""
    pending: list[tuple[Any, int]] = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, str):
            _check_text(item)
            continue
        children: Iterable[Any]
        if isinstance(item, dict):
            children = [*item.keys(), *item.values()]
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > MAX_DEPTH:
            raise BadRequest(f"the request body nests deeper than {MAX_DEPTH} arrays or objects")
        pending.extend((child, depth + 1) for child in children)


def _check_text(text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise BadRequest(
            f"the request body has a lone surrogate \\u{ord(text[exc.start]):04x}, "
            "which is not valid Unicode"
        ) from None


def invoke_body(value: Any) -> tuple[Any, dict[str, str]]:
    """``{"payload": ..., "execution_id": ..., ...}`` -> (payload, invoke options)."""
    body = _object(value, 'the request body must be an object: {"payload": ...}')
    unknown = set(body) - {"payload", *INVOKE_OPTIONS}
    if unknown:
        raise BadRequest(
            f"unknown fields: {_names(unknown)} (known: payload, {', '.join(INVOKE_OPTIONS)})"
        )
    options = {name: body[name] for name in INVOKE_OPTIONS if body.get(name) is not None}
    for name, option in options.items():
        if not isinstance(option, str) or not option:
            raise BadRequest(f"{name} must be a non-empty string")
    return body.get("payload"), options


EVENT_FIELDS = ("data", "event_type", "id")
MAX_EVENTS_PER_PUBLISH = 100


def publish_body(value: Any) -> tuple[str, list[dict[str, Any]]]:
    """``{"topic": ..., "events": [{"data": {...}, "event_type": ..., "id": ...}]}`` ->
    (topic, events); the events' contents are checked by the publisher."""
    body = _object(value, 'the request body must be an object: {"topic": ..., "events": [...]}')
    unknown = set(body) - {"topic", "events"}
    if unknown:
        raise BadRequest(f"unknown fields: {_names(unknown)} (known: topic, events)")
    topic, events = body.get("topic"), body.get("events")
    if not isinstance(topic, str):
        raise BadRequest("topic must be a string")
    if not isinstance(events, list) or not events:
        raise BadRequest('events must be a non-empty list of {"data": {...}, "event_type": ...}')
    if len(events) > MAX_EVENTS_PER_PUBLISH:
        raise BadRequest(f"at most {MAX_EVENTS_PER_PUBLISH} events per request, got {len(events)}")
    for i, event in enumerate(events):
        if not isinstance(event, dict):
            raise BadRequest(f"events[{i}] must be an object")
        extra = set(event) - set(EVENT_FIELDS)
        if extra:
            raise BadRequest(
                f"events[{i}]: unknown fields: {_names(extra)} (known: data, event_type, id)"
            )
    return topic, events


def cancel_body(value: Any) -> None:
    """A cancel request carries nothing: no body, or ``{}``."""
    body = _object(value, "the request body must be an object, or empty")
    if body:
        raise BadRequest(f"unknown fields: {_names(set(body))} (cancel takes none)")


def _object(value: Any, message: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise BadRequest(message)
    return value


def path_execution_id(raw: str) -> str:
    """The execution id in a URL path segment, percent-decoded and checked."""
    return check_execution_id(unquote(raw, errors="replace"))


def path_parameter(raw: str) -> str:
    """Any other path parameter, percent-decoded."""
    return unquote(raw, errors="replace")


def query(params: Mapping[str, str] | None, known: tuple[str, ...]) -> Mapping[str, str]:
    """The query parameters, refusing names the route does not read."""
    params = params or {}
    unknown = set(params) - set(known)
    if unknown:
        raise BadRequest(f"unknown query parameters: {_names(unknown)} (known: {', '.join(known)})")
    return params


def parse_limit(params: Mapping[str, str]) -> int:
    raw = params.get("limit", "100")
    shown = raw if len(raw) <= 20 else raw[:20] + "..."
    if not _WHOLE_NUMBER.fullmatch(raw):
        raise BadRequest(f"limit must be a whole number, got {shown!r}")
    if len(raw) > 10 or not 1 <= int(raw) <= 1000:
        raise BadRequest(f"limit must be from 1 to 1000, got {shown}")
    return int(raw)


def parse_steps(params: Mapping[str, str]) -> bool:
    raw = params.get("steps", "true")
    if raw not in ("true", "false"):
        raise BadRequest(f"steps must be true or false, got {raw[:20]!r}")
    return raw == "true"


def _names(names: set[str]) -> str:
    return ", ".join(sorted(name[:40] for name in names))
