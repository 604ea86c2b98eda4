"""Lifecycle events as CloudEvents 1.0, typed with the Serverless Workflow vocabulary.

Each ``LifecycleEvent`` maps one to one to an ``io.serverlessworkflow.*`` type (seed
``004``): workflow events to ``workflow.*``, step events to ``task.*``. Tracebacks stay
in the stream (an error's ``title`` is its type, ``detail`` its message). The CloudEvent's
``id`` is the lifecycle event's stable id (consumers dedup on it), ``subject`` the
execution id, ``time`` when it happened, and ``data`` the fields the Serverless Workflow
page lists (``workflowId`` is the execution, ``name`` the workflow). Built and written as
structured JSON with the ``cloudevents`` SDK, which validates the attributes.

``workflow_message`` (``ctx.step.emit``) has no Serverless Workflow type: it stays in
the stream and never reaches the bus.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent

from sdk.journal.records import parse_iso
from sdk.lifecycle.model import EventType, LifecycleEvent

SW = "io.serverlessworkflow"
CLOUDEVENT_TYPES = {
    EventType.WORKFLOW_START: f"{SW}.workflow.started.v1",
    EventType.WORKFLOW_FINISH: f"{SW}.workflow.completed.v1",
    EventType.WORKFLOW_FAIL: f"{SW}.workflow.faulted.v1",
    EventType.WORKFLOW_CANCEL: f"{SW}.workflow.cancelled.v1",
    EventType.WORKFLOW_SUSPEND: f"{SW}.workflow.suspended.v1",
    EventType.WORKFLOW_RESUME: f"{SW}.workflow.resumed.v1",
    EventType.STEP_START: f"{SW}.task.started.v1",
    EventType.STEP_FINISH: f"{SW}.task.completed.v1",
    EventType.STEP_ERROR: f"{SW}.task.faulted.v1",
    EventType.STEP_RETRY: f"{SW}.task.retried.v1",
}
# The Serverless Workflow error type of an error raised by a workflow's own code.
RUNTIME_ERROR = "https://serverlessworkflow.io/spec/1.0.0/errors/runtime"
NAMESPACE = "stepline"
SOURCE = "urn:stepline"
# When each event happened, by the name its Serverless Workflow data gives that moment.
_MOMENT = {
    EventType.WORKFLOW_START: "startedAt",
    EventType.WORKFLOW_FINISH: "completedAt",
    EventType.WORKFLOW_FAIL: "faultedAt",
    EventType.WORKFLOW_CANCEL: "cancelledAt",
    EventType.WORKFLOW_SUSPEND: "suspendedAt",
    EventType.WORKFLOW_RESUME: "resumedAt",
    EventType.STEP_START: "startedAt",
    EventType.STEP_FINISH: "completedAt",
    EventType.STEP_ERROR: "faultedAt",
    EventType.STEP_RETRY: "retriedAt",
}
_FORMAT = JSONFormat()


def on_bus(event: LifecycleEvent) -> bool:
    """Does ``event`` have a CloudEvents type (every type but ``workflow_message``)?"""
    return event.event_type in CLOUDEVENT_TYPES


def to_cloudevent(event: LifecycleEvent, *, source: str = SOURCE) -> CloudEvent:
    """``event`` as a CloudEvent (the SDK checks every attribute)."""
    if not on_bus(event):
        raise ValueError(f"{event.event_type.value} events have no CloudEvents type")
    attributes: dict[str, Any] = {
        "id": event.id,
        "source": f"{source}:{event.workflow_id}",
        "type": CLOUDEVENT_TYPES[event.event_type],
        "subject": event.execution_id,
        "time": parse_iso(event.created_at),
        "datacontenttype": "application/json",
    }
    return CloudEvent(attributes, sw_data(event))


def structured(event: LifecycleEvent, *, source: str = SOURCE) -> str:
    """``event`` as a structured-mode CloudEvents JSON document."""
    return _FORMAT.write(to_cloudevent(event, source=source)).decode()


def read_structured(document: str | bytes) -> CloudEvent:
    """A structured CloudEvents JSON document back as a (validated) CloudEvent."""
    event = _FORMAT.read(None, document)
    assert isinstance(event, CloudEvent)
    return event


def sw_data(event: LifecycleEvent) -> dict[str, Any]:
    """The data the Serverless Workflow page lists for ``event``'s type."""
    data: dict[str, Any] = {
        "workflowId": event.execution_id,
        "namespace": NAMESPACE,
        "name": event.workflow_id,
        _MOMENT[event.event_type]: event.created_at,
    }
    if event.parent_execution_id is not None:
        data["parentWorkflowId"] = event.parent_execution_id
    if event.root_execution_id != event.execution_id:
        data["rootWorkflowId"] = event.root_execution_id
    if event.step_key is not None:
        data["taskReference"] = event.step_key
        data["taskType"] = event.step_type
    if event.runtime_us is not None:
        data["durationMs"] = event.runtime_us / 1000
        started = parse_iso(event.created_at).timestamp() - event.runtime_us / 1e6
        data.setdefault("startedAt", _iso(started))
    if event.event_type is EventType.STEP_RETRY:
        data["attemptNumber"] = event.attempt
    if event.error is not None:
        error = {
            "type": RUNTIME_ERROR,
            "status": 500,
            "title": event.error.type,
            "detail": event.error.message,
        }
        if event.step_key is not None:
            error["instance"] = f"/do/{event.step_key}"
        data["previousError" if event.event_type is EventType.STEP_RETRY else "error"] = error
    return data


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def detail(event: LifecycleEvent, *, source: str = SOURCE) -> dict[str, Any]:
    """The structured CloudEvent as a JSON object (an EventBridge entry's ``Detail``)."""
    value: dict[str, Any] = json.loads(structured(event, source=source))
    return value
