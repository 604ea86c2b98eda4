"""Following a run's lifecycle events, as the streaming page shows: printing progress,
and forwarding every event to a WebSocket."""

from __future__ import annotations

from typing import Any, Protocol

from examples.pipelines import PipeInput, data_pipeline
from sdk import Client, events
from sdk.events import stream_workflow


class WebSocket(Protocol):
    """What ``stream_to_websocket`` needs of a WebSocket (Starlette's has it)."""

    async def send_json(self, data: Any) -> None: ...


async def print_progress(execution_id: str) -> list[str]:
    """Print a run's progress as its events come (the page's loop: no client, the
    environment says where the stream is); returns the lines printed."""
    lines: list[str] = []
    async for event in stream_workflow(workflow_run_id=execution_id):
        if event.event_type == "step_start":
            line = f"⏳ Step started: {event.data.get('step_key')}"
        elif event.event_type == "step_finish":
            line = f"✅ Step finished: {event.data.get('step_key')}"
        elif event.event_type == "workflow_finish":
            line = "🎉 Workflow completed"
        else:
            continue
        print(line)
        lines.append(line)
    return lines


def start_pipeline(client: Client) -> str:
    """Start the page's pipeline; its execution id."""
    handle = data_pipeline.invoke(client, PipeInput(source="database", table="orders"))
    return handle.id


async def stream_to_websocket(client: Client, execution_id: str, websocket: WebSocket) -> None:
    """Stream workflow events to WebSocket client."""
    async for event in events.stream_workflow(client, workflow_run_id=execution_id):
        # Send event to frontend
        await websocket.send_json({
            "type": event.event_type,
            "data": event.data,
            "timestamp": event.created_at
        })  # fmt: skip

        # Stop streaming when workflow completes
        if event.event_type == "workflow_finish" and event.data["metadata"]["execution_id"] == execution_id:  # noqa: E501
            break
