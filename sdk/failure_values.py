"""The values inside a recorded exception (its ``args`` and attributes) as JSON text.

Plain JSON keeps ``None``, booleans, integers, finite floats, strings, lists and
dicts with string keys. Three one-key objects keep what JSON would change:
``{"$bytes": "<base64>"}``, ``{"$tuple": [...]}`` and ``{"$dict": [[key, value], ...]}``
(a dict with keys that are not strings, or whose only key is one of these tags).
Anything else (an arbitrary object, a cycle, nesting deeper than ``MAX_DEPTH``)
cannot be stored: the journal stays readable JSON and replaying it runs no
pickle. Strings longer than ``MAX_STRING_CHARS`` are clipped with a visible marker.

Messages and tracebacks are clipped to a number of UTF-8 bytes (``clip``), lone
surrogates escaped so DynamoDB accepts them; ``same_text`` tells whether a rebuilt
exception's text is the one that was recorded, clipped or not.
"""

from __future__ import annotations

import base64
import json
import math
import re
from collections.abc import Callable
from typing import Any

MAX_DEPTH = 16
MAX_STRING_CHARS = 8 * 1024
_TAGS = ("$bytes", "$tuple", "$dict")
_CLIPPED = re.compile(r"(.*)\.\.\.\[stepline: \d+ more bytes truncated\]", re.DOTALL)


class UnstorableValueError(ValueError):
    """A value that the exception-state JSON cannot hold (never leaves ``sdk.failures``)."""


def clip(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` UTF-8 bytes, with a marker saying how much was dropped."""
    data = text.encode("utf-8", "backslashreplace")  # a lone surrogate becomes an escape
    if len(data) <= limit:
        return data.decode("utf-8")
    kept = data[:limit].decode("utf-8", "ignore")
    return f"{kept}...[stepline: {len(data) - len(kept.encode())} more bytes truncated]"


def clip_middle(text: str, limit: int) -> str:
    """``text`` cut to about ``limit`` UTF-8 bytes: its first quarter and its end are kept."""
    data = text.encode("utf-8", "backslashreplace")
    if len(data) <= limit:
        return data.decode("utf-8")
    head = data[: limit // 4].decode("utf-8", "ignore")
    tail = data[len(data) - (limit - limit // 4) :].decode("utf-8", "ignore")
    dropped = len(data) - len(head.encode()) - len(tail.encode())
    return f"{head}\n...[stepline: {dropped} bytes truncated]...\n{tail}"


def same_text(text: str, recorded: str) -> bool:
    """Whether ``text`` is what ``recorded`` holds, in full or as its clipped start."""
    printable = clip(text, len(text.encode("utf-8", "backslashreplace")))
    if printable == recorded:
        return True
    clipped = _CLIPPED.fullmatch(recorded)
    kept = "" if clipped is None else clipped.group(1)
    return clipped is not None and len(printable) > len(kept) and printable.startswith(kept)


def _clip_value(text: str) -> str:
    if len(text) <= MAX_STRING_CHARS:
        return text
    dropped = len(text) - MAX_STRING_CHARS
    return f"{text[:MAX_STRING_CHARS]}...[stepline: {dropped} more characters truncated]"


def dumps(value: Any, limit: int) -> str | None:
    """``value`` as JSON text of at most ``limit`` bytes, or ``None`` if it cannot be."""
    try:
        text = json.dumps(_encode(value, 0), separators=(",", ":"), allow_nan=False)
    except Exception:  # unstorable, or a value whose own methods fail: not stored
        return None
    return text if len(text.encode()) <= limit else None


def loads(text: str) -> Any:
    """The value ``dumps`` stored. Raises ``ValueError`` on text it did not write."""
    try:
        return _decode(json.loads(text))
    except (TypeError, KeyError, AttributeError, RecursionError) as exc:
        raise ValueError(f"not a recorded exception value: {exc}") from exc


def _encode(value: Any, depth: int) -> Any:
    if depth > MAX_DEPTH:
        raise UnstorableValueError("nested too deeply")
    for kind, encode in _ENCODERS:
        if isinstance(value, kind):
            return encode(value, depth + 1)
    raise UnstorableValueError(f"a {type(value).__qualname__} is not storable")


def _float(value: float, depth: int) -> float:
    if not math.isfinite(value):
        raise UnstorableValueError("a non-finite float is not storable")
    return float(value)


def _dict(value: dict[Any, Any], depth: int) -> Any:
    plain = all(type(key) is str for key in value) and not (len(value) == 1 and _tagged(value))
    if plain:
        return {key: _encode(item, depth) for key, item in value.items()}
    return {"$dict": [[_encode(key, depth), _encode(item, depth)] for key, item in value.items()]}


def _tagged(value: dict[Any, Any]) -> bool:
    return next(iter(value)) in _TAGS


_ENCODERS: list[tuple[type | tuple[type, ...], Callable[[Any, int], Any]]] = [
    (type(None), lambda value, depth: None),
    (bool, lambda value, depth: bool(value)),
    (int, lambda value, depth: int(value)),
    (float, _float),
    (str, lambda value, depth: _clip_value(str.__str__(value))),
    (bytes, lambda value, depth: {"$bytes": base64.b64encode(value).decode("ascii")}),
    (tuple, lambda value, depth: {"$tuple": [_encode(item, depth) for item in value]}),
    (list, lambda value, depth: [_encode(item, depth) for item in value]),
    (dict, _dict),
]


def _decode(raw: Any) -> Any:
    if isinstance(raw, list):
        return [_decode(item) for item in raw]
    if not isinstance(raw, dict):
        return raw
    if len(raw) == 1 and _tagged(raw):
        ((tag, inner),) = raw.items()
        return _DECODERS[tag](inner)
    return {key: _decode(item) for key, item in raw.items()}


_DECODERS: dict[str, Callable[[Any], Any]] = {
    "$bytes": lambda inner: base64.b64decode(inner.encode("ascii"), validate=True),
    "$tuple": lambda inner: tuple(_decode(item) for item in inner),
    "$dict": lambda inner: {_decode(key): _decode(item) for key, item in inner},
}
