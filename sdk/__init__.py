"""Stepline: durable Python workflows on AWS serverless.

What user code imports. The replay engine, journals and records live in the
submodules; this module only re-exports.
"""

import importlib
from typing import TYPE_CHECKING, Any

from sdk.app import App
from sdk.client import Client, ExecutionHandle, InlineInvoker, LambdaInvoker
from sdk.clock import Clock, SystemClock, VirtualClock
from sdk.context import WorkflowContext
from sdk.engine import Engine
from sdk.errors import (
    EventWaitTimeoutError,
    ExecutionNotFoundError,
    InvalidPayloadError,
    NonDeterministicError,
    ResultTimeoutError,
    StepFailedError,
    SteplineError,
    TerminalError,
    WorkflowFailedError,
    WorkflowNotFoundError,
)
from sdk.events.steps import PublishedEvent
from sdk.events.topics import InvalidEventError, Published
from sdk.journal import ExecutionRecord, ExecutionStatus
from sdk.workflow import Workflow, workflow

if TYPE_CHECKING:
    from sdk.journal import MemoryJournal
    from sdk.lifecycle import LifecycleEvent, stream_workflow
    from sdk.payloads import BatchEventPayload, EventPayload, SchedulePayload
    from sdk.schedules.manager import ScheduleInfo, Schedules
    from sdk.schedules.spec import Schedule

# Re-exported on first use: a deployed runner never needs them, and importing costs it
# at every cold start.
_LAZY = {
    "MemoryJournal": "sdk.journal.memory",
    "LifecycleEvent": "sdk.lifecycle.model",
    "stream_workflow": "sdk.lifecycle.follow",
    "BatchEventPayload": "sdk.payloads",
    "EventPayload": "sdk.payloads",
    "SchedulePayload": "sdk.payloads",
    "Schedule": "sdk.schedules.spec",
    "ScheduleInfo": "sdk.schedules.manager",
    "Schedules": "sdk.schedules.manager",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'sdk' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)

__all__ = [
    "App",
    "BatchEventPayload",
    "Client",
    "Clock",
    "Engine",
    "EventPayload",
    "EventWaitTimeoutError",
    "ExecutionHandle",
    "ExecutionNotFoundError",
    "ExecutionRecord",
    "ExecutionStatus",
    "InlineInvoker",
    "InvalidEventError",
    "InvalidPayloadError",
    "LambdaInvoker",
    "LifecycleEvent",
    "MemoryJournal",
    "NonDeterministicError",
    "Published",
    "PublishedEvent",
    "ResultTimeoutError",
    "Schedule",
    "ScheduleInfo",
    "SchedulePayload",
    "Schedules",
    "StepFailedError",
    "SteplineError",
    "SystemClock",
    "TerminalError",
    "VirtualClock",
    "Workflow",
    "WorkflowContext",
    "WorkflowFailedError",
    "WorkflowNotFoundError",
    "stream_workflow",
    "workflow",
]
