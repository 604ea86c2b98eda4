"""The step journal: a protocol and its two implementations."""

from sdk.journal.base import Journal
from sdk.journal.memory import MemoryJournal
from sdk.journal.records import ExecutionRecord, ExecutionStatus, StepRecord, StepStatus

__all__ = [
    "ExecutionRecord",
    "ExecutionStatus",
    "Journal",
    "MemoryJournal",
    "StepRecord",
    "StepStatus",
]
