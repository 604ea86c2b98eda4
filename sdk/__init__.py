"""Stepline: durable Python workflows on AWS serverless.

What user code imports. The replay engine, journals and records live in the
submodules; this module only re-exports.
"""

from sdk.app import App
from sdk.client import Client, ExecutionHandle, InlineInvoker, LambdaInvoker
from sdk.clock import Clock, SystemClock, VirtualClock
from sdk.context import WorkflowContext
from sdk.engine import Engine
from sdk.errors import (
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
from sdk.journal import ExecutionRecord, ExecutionStatus, MemoryJournal
from sdk.payloads import BatchEventPayload, EventPayload, SchedulePayload
from sdk.workflow import Workflow, workflow

__all__ = [
    "App",
    "BatchEventPayload",
    "Client",
    "Clock",
    "Engine",
    "EventPayload",
    "ExecutionHandle",
    "ExecutionNotFoundError",
    "ExecutionRecord",
    "ExecutionStatus",
    "InlineInvoker",
    "InvalidPayloadError",
    "LambdaInvoker",
    "MemoryJournal",
    "NonDeterministicError",
    "ResultTimeoutError",
    "SchedulePayload",
    "StepFailedError",
    "SteplineError",
    "SystemClock",
    "TerminalError",
    "VirtualClock",
    "Workflow",
    "WorkflowContext",
    "WorkflowFailedError",
    "WorkflowNotFoundError",
    "workflow",
]
