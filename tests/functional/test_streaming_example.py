"""The streaming page's examples on the stepline fixture: the data pipeline's exact event
order, the WebSocket forwarder, and a reader that comes back after every third event."""

from __future__ import annotations

import asyncio
from typing import Any

from examples.streaming import start_pipeline, stream_to_websocket
from sdk.events import stream_workflow
from sdk.lifecycle import LifecycleEvent

# Page 000's list for data_pipeline, the child's steps where it says "< events for steps ... >"
PAGE_000 = [
    ("workflow_start", "data_pipeline", None),
    ("step_start", "data_pipeline", "extract"),
    ("step_finish", "data_pipeline", "extract"),
    ("step_start", "data_pipeline", "transform"),
    ("step_finish", "data_pipeline", "transform"),
    ("workflow_start", "child_pipeline", None),
    ("step_start", "child_pipeline", "validate"),
    ("step_finish", "child_pipeline", "validate"),
    ("step_start", "child_pipeline", "enrich"),
    ("step_finish", "child_pipeline", "enrich"),
    ("workflow_finish", "child_pipeline", None),
    ("step_start", "data_pipeline", "load"),
    ("step_finish", "data_pipeline", "load"),
    ("workflow_finish", "data_pipeline", None),
]


def shape(events: list[dict[str, Any]]) -> list[tuple[str, str, str | None]]:
    """(type, workflow, step) of envelopes as the WebSocket example sends them."""
    return [(e["type"], e["data"]["_metadata"]["workflow_id"], e["data"].get("step_key"))
            for e in events]  # fmt: skip


class FakeSocket:
    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    async def send_json(self, data: Any) -> None:
        self.sent.append(data)


def test_the_pipeline_streams_page_000_s_events_to_a_websocket(stepline: Any) -> None:
    execution_id = start_pipeline(stepline.client)
    socket = FakeSocket()
    asyncio.run(stream_to_websocket(stepline.client, execution_id, socket))
    assert shape(socket.sent) == PAGE_000
    assert socket.sent[-1]["data"]["_metadata"]["execution_id"] == execution_id
    assert all(isinstance(e["timestamp"], str) for e in socket.sent)


async def _collect(client: Any, execution_id: str, after: int | None, most: int) -> list[Any]:
    got: list[LifecycleEvent] = []
    async for event in stream_workflow(client, workflow_run_id=execution_id,
                                       last_sequence_id=after):  # fmt: skip
        got.append(event)
        if len(got) == most:
            break  # the reader goes away
    return got


def test_a_reader_coming_back_after_every_third_event_sees_each_once(stepline: Any) -> None:
    execution_id = start_pipeline(stepline.client)
    seen: list[LifecycleEvent] = []
    while not (seen and seen[-1].event_type == "workflow_finish"
               and seen[-1].execution_id == execution_id):  # fmt: skip
        after = seen[-1].sequence_id if seen else None
        seen += asyncio.run(_collect(stepline.client, execution_id, after, 3))
    assert [(e.event_type.value, e.workflow_id, e.step_key) for e in seen] == PAGE_000
    assert [e.sequence_id for e in seen] == list(range(1, len(PAGE_000) + 1))
