"""How an exception is recorded in the journal and rebuilt from it, as itself.

A recorded failure is a map of strings (a DynamoDB ``M`` of ``S``):

* ``type``: ``module:QualName`` of the exception; ``message``: its ``str()`` (or
  ``<unprintable T>`` when ``str()`` raises), at most 8 KB; ``traceback``: its
  formatted traceback, at most 32 KB (the start and the end are kept). These three are
  all a record written before this format holds, and all it needs.
* ``args``: ``exc.args``; ``attrs``: the instance's ``__dict__`` (notes aside);
  ``init``: the arguments ``exc.__reduce__()`` rebuilds it with, when they are not
  ``args`` (``OSError`` keeps ``filename`` there, botocore's ``ClientError`` its
  response). Each is JSON text (``sdk.failure_values``), stored when it can be: the
  three together hold at most 32 KB; what could not be stored is named in ``omitted``.
* ``base``: when the type cannot be imported by its name (botocore's modeled errors
  are made at run time, a class may live inside a function), its nearest importable
  ancestor below ``Exception``, which the error is rebuilt as.
* ``causes``: the ``__cause__`` chain (at most 3 deep), a JSON list of the same maps
  without tracebacks (the outer traceback shows the chain), 2 KB of message each.

Rebuilding follows pickle's way, with JSON instead of pickle: call the class with
``init`` (or ``args``) and put the attributes back; where the constructor refuses or
gives other ``args``, make the instance with ``cls.__new__`` and set ``args`` and the
attributes directly. Either way the result must print as the recorded message.
A record with no ``args`` is rebuilt as before, ``cls(message)``. When nothing
works, or the type is gone, a ``StepFailedError`` or ``WorkflowFailedError`` names
the recorded type and message. The rebuilt error's ``__cause__`` is the rebuilt
cause chain, and a note carries the original traceback.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from sdk import failure_values as values
from sdk.errors import StepFailedError, WorkflowFailedError

MESSAGE_BYTES = 8 * 1024
TRACEBACK_BYTES = 32 * 1024
STATE_BYTES = 32 * 1024
CAUSE_DEPTH = 3
CAUSE_MESSAGE_BYTES = 2 * 1024
CAUSE_STATE_BYTES = 4 * 1024


@dataclass(frozen=True, slots=True)
class ErrorInfo:
    """A recorded exception: ``type`` is ``module:QualName``; the rest is described above."""

    type: str
    message: str
    traceback: str = ""
    base: str | None = None
    args: str | None = None
    init: str | None = None
    attrs: str | None = None
    omitted: tuple[str, ...] = ()
    causes: tuple[ErrorInfo, ...] = ()

    @classmethod
    def from_exception(cls, exc: BaseException) -> ErrorInfo:
        """Record ``exc``; never raises, whatever its ``str()``, ``repr()`` or attributes do."""
        causes = tuple(
            _state(cause, CAUSE_MESSAGE_BYTES, CAUSE_STATE_BYTES) for cause in _chain(exc)
        )
        return dataclasses.replace(
            _state(exc, MESSAGE_BYTES, STATE_BYTES), traceback=_traceback(exc), causes=causes
        )

    def to_dict(self) -> dict[str, str]:
        data = {"type": self.type, "message": self.message, "traceback": self.traceback}
        optional = {
            "base": self.base,
            "args": self.args,
            "init": self.init,
            "attrs": self.attrs,
            "omitted": json.dumps(list(self.omitted)) if self.omitted else None,
            "causes": _causes_json(self.causes) if self.causes else None,
        }
        data.update({name: value for name, value in optional.items() if value is not None})
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ErrorInfo:
        return cls(
            type=str(data["type"]),
            message=str(data.get("message", "")),
            traceback=str(data.get("traceback", "")),
            base=_text(data.get("base")),
            args=_text(data.get("args")),
            init=_text(data.get("init")),
            attrs=_text(data.get("attrs")),
            omitted=tuple(str(name) for name in _json_list(data.get("omitted"))),
            causes=tuple(cls.from_dict(c) for c in _json_list(data.get("causes")) if _is_record(c)),
        )

    @property
    def type_name(self) -> str:
        """The short ``QualName`` of the recorded type, for messages."""
        return self.type.rpartition(":")[2]

    def rebuild(self, *, step_key: str | None = None) -> Exception:
        """Rebuild the exception: its own type when it can be, else a Stepline error."""
        exc = self._rebuilt(step_key)
        current = exc
        for cause in self.causes:
            rebuilt = cause._rebuilt(step_key)
            current.__cause__ = rebuilt
            current = rebuilt
        where = f"step {step_key!r}" if step_key is not None else "the workflow"
        exc.add_note(f"recorded failure of {where}; original traceback:\n{self.traceback}")
        return exc

    def _rebuilt(self, step_key: str | None) -> Exception:
        path = self.type
        kind = resolve(path)
        if kind is None and self.base is not None:
            path, kind = self.base, resolve(self.base)
        exc = None if kind is None else _instance(self, kind)
        if exc is None:
            if step_key is None:
                return WorkflowFailedError(self.type_name, self.message)
            return StepFailedError(self.type_name, self.message)
        if path != self.type:
            exc.add_note(f"recorded as {self.type}, rebuilt as its importable base {path}")
        if self.omitted:
            exc.add_note(f"not recorded (not JSON or too large): {', '.join(self.omitted)}")
        return exc


def resolve(path: str) -> type[Exception] | None:
    """The exception class named ``module:QualName``, or ``None`` if there is none."""
    module_name, _, qualname = path.partition(":")
    try:
        obj: Any = importlib.import_module(module_name)
        for part in qualname.split("."):
            obj = getattr(obj, part)
    except Exception:  # not importable, or its module fails to import: not rebuildable
        return None
    return obj if isinstance(obj, type) and issubclass(obj, Exception) else None


def describe(exc: BaseException) -> str:
    """``str(exc)``, or a placeholder when that raises."""
    try:
        return str(exc)
    except Exception:
        return f"<unprintable {type(exc).__qualname__}>"


def _path(kind: type) -> str:
    return f"{kind.__module__}:{kind.__qualname__}"


def _state(exc: BaseException, message_limit: int, state_limit: int) -> ErrorInfo:
    """What rebuilds ``exc`` (all but the traceback and causes), within the limits."""
    budget = _Budget(state_limit)
    args = budget.take("args", exc.args)
    init = _init_args(exc)
    return ErrorInfo(
        type=_path(type(exc)),
        message=values.clip(describe(exc), message_limit),
        base=_base(type(exc)),
        args=args,
        init=None if init is None else budget.take("init", init),
        attrs=budget.take_attrs(exc),
        omitted=tuple(budget.omitted),
    )


class _Budget:
    """Bytes left for the JSON of one exception's ``args``, ``init`` and attributes."""

    def __init__(self, limit: int) -> None:
        self.left = limit
        self.omitted: list[str] = []

    def take(self, name: str, value: Any) -> str | None:
        text = values.dumps(value, self.left)
        if text is None:
            self.omitted.append(name)
        else:
            self.left -= len(text.encode())
        return text

    def take_attrs(self, exc: BaseException) -> str | None:
        attrs = {k: v for k, v in getattr(exc, "__dict__", {}).items() if k != "__notes__"}
        if not attrs:
            return None
        self.left -= 2  # the braces
        parts = []
        for name, value in attrs.items():
            text = self.take(name, value)
            if text is not None:
                parts.append(f"{json.dumps(name)}:{text}")
                self.left -= len(json.dumps(name).encode()) + 1
        return "{" + ",".join(parts) + "}"


def _init_args(exc: BaseException) -> tuple[Any, ...] | None:
    """The arguments ``__reduce__`` rebuilds ``exc`` with, when they are not ``exc.args``."""
    try:
        reduced: Any = exc.__reduce__()
        fits = (
            isinstance(reduced, tuple)
            and isinstance(reduced[0], type)
            and isinstance(exc, reduced[0])
            and isinstance(reduced[1], tuple)
            and reduced[1] != exc.args
        )
    except Exception:  # a broken __reduce__ or __eq__: rebuild from args alone
        return None
    return reduced[1] if fits else None


def _base(kind: type) -> str | None:
    """The nearest importable ancestor below ``Exception`` when ``kind`` is not importable."""
    if resolve(_path(kind)) is kind:
        return None
    for ancestor in kind.__mro__[1:]:
        if ancestor in (Exception, BaseException, object):
            return None
        if resolve(_path(ancestor)) is ancestor:
            return _path(ancestor)
    return None


def _traceback(exc: BaseException) -> str:
    try:
        text = "".join(traceback.format_exception(exc))
    except Exception as failure:  # the record is written regardless
        text = f"<traceback unavailable: {type(failure).__qualname__}>"
    return values.clip_middle(text, TRACEBACK_BYTES)


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """The explicit ``__cause__`` chain of ``exc``, at most ``CAUSE_DEPTH`` long."""
    seen = {id(exc)}
    cause = exc.__cause__
    while cause is not None and len(seen) <= CAUSE_DEPTH and id(cause) not in seen:
        yield cause
        seen.add(id(cause))
        cause = cause.__cause__


def _instance(info: ErrorInfo, kind: type[Exception]) -> Exception | None:
    """``kind`` rebuilt from ``info``, or ``None`` if no way gives back the recorded text."""
    args = _decoded(info.args, tuple)
    attrs = _decoded(info.attrs, dict) or {}
    makers: list[Callable[[], Exception | None]] = [lambda: _called(kind, (info.message,), attrs)]
    if args is not None:
        init = _decoded(info.init, tuple)
        makers = [
            lambda: _called(kind, args if init is None else init, attrs, args),
            lambda: _blank(kind, args, attrs),
        ]
    for make in makers:
        try:
            exc = make()
        except Exception:  # a constructor that wants other arguments, or fails
            continue
        if exc is not None and values.same_text(describe(exc), info.message):
            return exc
    return None


def _called(
    kind: type[Exception],
    init: tuple[Any, ...],
    attrs: dict[str, Any],
    args: tuple[Any, ...] | None = None,
) -> Exception | None:
    """``kind(*init)`` with the attributes put back (pickle's way), if it keeps ``args``."""
    exc = kind(*init)
    if not isinstance(exc, kind) or (args is not None and exc.args != args):
        return None
    exc.__dict__.update(attrs)
    return exc


def _blank(kind: type[Exception], args: tuple[Any, ...], attrs: dict[str, Any]) -> Exception:
    """An instance made without its constructor: ``args`` and attributes set directly."""
    exc = kind.__new__(kind, *args)
    exc.args = args
    exc.__dict__.update(attrs)
    return exc


def _decoded(text: str | None, kind: type[Any]) -> Any:
    """The stored JSON value if it is a ``kind`` (a tuple of args, a dict of attributes)."""
    if text is None:
        return None
    try:
        value = values.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, kind) else None


def _causes_json(causes: tuple[ErrorInfo, ...]) -> str:
    compact = [{name: text for name, text in c.to_dict().items() if text} for c in causes]
    return json.dumps(compact, separators=(",", ":"))


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _json_list(text: Any) -> list[Any]:
    try:
        value = json.loads(text) if isinstance(text, str) else []
    except ValueError:
        return []
    return value if isinstance(value, list) else []


def _is_record(value: Any) -> bool:
    return isinstance(value, dict) and isinstance(value.get("type"), str)
