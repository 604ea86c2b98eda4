"""How an exception is recorded in the journal and rebuilt from it.

A recorded failure keeps the exception's importable type name, its message and
its traceback text. Rebuilding imports the type and constructs it from the
message; where that is not possible a generic Stepline error carries both.
"""

from __future__ import annotations

import importlib
import traceback
from dataclasses import dataclass
from typing import Any

from sdk.errors import StepFailedError, WorkflowFailedError
from sdk.sizes import MAX_ERROR_MESSAGE, MAX_ERROR_TRACEBACK, truncated


@dataclass(frozen=True, slots=True)
class ErrorInfo:
    """A recorded exception: ``type`` is ``module:QualName``.

    A long message or traceback is cut (``…[truncated N bytes]``), so a record always
    fits its journal item.
    """

    type: str
    message: str
    traceback: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "message", truncated(self.message, MAX_ERROR_MESSAGE))
        object.__setattr__(self, "traceback", truncated(self.traceback, MAX_ERROR_TRACEBACK))

    @classmethod
    def from_exception(cls, exc: BaseException) -> ErrorInfo:
        kind = type(exc)
        tb = "".join(traceback.format_exception(exc))
        return cls(type=f"{kind.__module__}:{kind.__qualname__}", message=str(exc), traceback=tb)

    def to_dict(self) -> dict[str, str]:
        return {"type": self.type, "message": self.message, "traceback": self.traceback}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ErrorInfo:
        return cls(
            type=str(data["type"]),
            message=str(data.get("message", "")),
            traceback=str(data.get("traceback", "")),
        )

    @property
    def type_name(self) -> str:
        """The short ``QualName`` of the recorded type, for messages."""
        return self.type.rpartition(":")[2]

    def rebuild(self, *, step_key: str | None = None) -> Exception:
        """Rebuild the exception: its own type when importable, else a Stepline error."""
        exc = _construct(self.type, self.message)
        if exc is None:
            if step_key is None:
                exc = WorkflowFailedError(self.type_name, self.message)
            else:
                exc = StepFailedError(self.type_name, self.message)
        where = f"step {step_key!r}" if step_key is not None else "the workflow"
        exc.add_note(f"recorded failure of {where}; original traceback:\n{self.traceback}")
        return exc


def _construct(type_path: str, message: str) -> Exception | None:
    module_name, _, qualname = type_path.partition(":")
    try:
        obj: Any = importlib.import_module(module_name)
        for part in qualname.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError, ValueError):
        return None
    if not (isinstance(obj, type) and issubclass(obj, Exception)):
        return None
    try:
        exc = obj(message)
    except Exception:  # a constructor that wants other arguments
        return None
    return exc if str(exc) == message else None
