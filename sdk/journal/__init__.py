"""The step journal: a protocol and its two implementations."""

import importlib
from typing import TYPE_CHECKING, Any

from sdk.journal.base import Journal
from sdk.journal.records import ExecutionRecord, ExecutionStatus, StepRecord, StepStatus

if TYPE_CHECKING:
    from sdk.journal.memory import MemoryJournal

__all__ = [
    "ExecutionRecord",
    "ExecutionStatus",
    "Journal",
    "MemoryJournal",
    "StepRecord",
    "StepStatus",
]


def __getattr__(name: str) -> Any:
    """``MemoryJournal`` on first use: a deployed runner never needs it."""
    if name == "MemoryJournal":
        return importlib.import_module("sdk.journal.memory").MemoryJournal
    raise AttributeError(f"module 'sdk.journal' has no attribute {name!r}")
