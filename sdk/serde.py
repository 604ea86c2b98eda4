"""JSON in and out of the journal.

Values are stored as compact JSON text. Pydantic models, dataclasses, datetimes,
dates, UUIDs, decimals, enums, sets and tuples are accepted; anything else is a
``SerializationError`` naming what was being stored. Each stored value also keeps
a *type tag* (``module:QualName`` of a top-level model or dataclass, or a scalar
tag) so it can be rebuilt even where no annotation says what it was.

pydantic is imported only when a value needs it, so importing the runner stays cheap.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import enum
import importlib
import json
import sys
import uuid
from functools import lru_cache
from typing import Any

from sdk.errors import SerializationError
from sdk.sizes import MAX_INLINE_VALUE

_SCALAR_TAGS: dict[type, str] = {
    dt.datetime: "datetime",
    dt.date: "date",
    dt.time: "time",
    uuid.UUID: "uuid",
    decimal.Decimal: "decimal",
}
_TAG_TYPES: dict[str, type] = {tag: kind for kind, tag in _SCALAR_TAGS.items()}
_PLAIN = (str, int, float, bool, type(None), dict, list)

# The most a journal stores without a value store (a DynamoDB item holds 400 KB);
# journals say what they take in ``Journal.max_value_bytes``.
MAX_STORED_BYTES = MAX_INLINE_VALUE


def _default(value: Any) -> Any:
    if _is_model(value):
        return value.model_dump(mode="json")
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, uuid.UUID | decimal.Decimal):
        return str(value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, set | frozenset):
        return sorted(value, key=repr)
    raise TypeError(f"values of type {type(value).__qualname__} are not JSON-storable")


def _is_model(value: Any) -> bool:
    pydantic = sys.modules.get("pydantic")
    return pydantic is not None and isinstance(value, pydantic.BaseModel)


def dumps(value: Any, *, what: str, limit: int = MAX_STORED_BYTES) -> str:
    """Encode ``value`` as compact JSON; ``what`` names it in errors (e.g. "step 'charge'").

    JSON longer than ``limit`` bytes (what the journal stores) is a ``SerializationError``.
    """
    try:
        text = json.dumps(value, default=_default, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise SerializationError(f"cannot store the value of {what} as JSON: {exc}") from exc
    if len(text) > limit // 4 and len(text.encode()) > limit:
        raise SerializationError(
            f"the value of {what} is {len(text.encode())} bytes of JSON, more than the "
            f"{limit} the journal stores"
            + ("" if limit > MAX_INLINE_VALUE else " (give it a value store for more)")
        )
    return text


def type_tag(value: Any) -> str | None:
    """The tag that lets ``loads`` rebuild ``value`` without an annotation."""
    kind = type(value)
    if kind in _PLAIN:
        return None
    if kind in _SCALAR_TAGS:
        return _SCALAR_TAGS[kind]
    if _is_model(value) or dataclasses.is_dataclass(value) or isinstance(value, enum.Enum):
        if "<locals>" not in kind.__qualname__:
            return f"{kind.__module__}:{kind.__qualname__}"
    return None


def loads(text: str | None, *, annotation: Any = None, tag: str | None = None) -> Any:
    """Decode JSON text, rebuilt to ``annotation`` if given, else to the recorded ``tag``."""
    if text is None:
        return None
    raw = json.loads(text)
    target = annotation if annotation is not None and annotation is not Any else _tag_type(tag)
    if target is None or (
        isinstance(target, type) and target in _PLAIN and isinstance(raw, target)
    ):
        return raw
    return adapter(target).validate_python(raw)


def _tag_type(tag: str | None) -> Any:
    if tag is None:
        return None
    if tag in _TAG_TYPES:
        return _TAG_TYPES[tag]
    module_name, _, qualname = tag.partition(":")
    try:
        obj: Any = importlib.import_module(module_name)
        for part in qualname.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError):
        return None  # the type is gone: hand back the plain JSON
    return obj


@lru_cache(maxsize=512)
def adapter(annotation: Any) -> Any:
    """A cached pydantic ``TypeAdapter`` for ``annotation``."""
    from pydantic import TypeAdapter

    return TypeAdapter(annotation)
