"""Batched handlers in the emulator: the stack's queues, the poller's size and window
rules, the batch function in a worker process, and SQS redelivering every message."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from infra.template import synth
from local_emulator.api_client import ApiClient
from local_emulator.emulator import Emulator
from tests.support import eventually

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    with Emulator(synth(["examples"]), workdir=str(ROOT)) as running:
        yield running


@pytest.fixture
def api(emulator: Emulator) -> ApiClient:
    assert emulator.endpoints is not None
    return ApiClient(emulator.endpoints.api)



def batches(api: ApiClient, workflow_id: str) -> list[dict[str, Any]]:
    """The finished batch executions of ``workflow_id``, with their inputs."""
    listed = api.executions(workflow_id, None, 1000)
    return [
        api.execution(e["execution_id"], steps=False)
        for e in listed
        if e["status"] in ("completed", "failed")
    ]


def queue_is_drained(emulator: Emulator, url: str) -> bool:
    attributes = emulator.client("sqs").get_queue_attributes(
        QueueUrl=url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return all(int(count) == 0 for count in attributes.values())


def test_an_immediate_and_a_batched_handler_on_one_topic_both_get_every_event(
    emulator: Emulator, api: ApiClient
) -> None:
    orders = [f"o-both-{i}" for i in range(5)]  # batched-handler: batch_size=5
    published = [api.publish("order/created", {"order_id": o, "total": 1}) for o in orders]
    assert [p["sequence_id"] for p in published] == sorted(p["sequence_id"] for p in published)
    immediate = eventually(
        lambda: [e for e in api.executions("immediate-handler", "completed", 1000)],
        lambda done: len(done) >= len(orders),
    )
    assert len(immediate) == len(orders)
    [batch] = eventually(lambda: batches(api, "batched-handler"), lambda done: len(done) == 1)
    assert batch["status"] == "completed"
    assert batch["output"] == {"handler": "batched", "count": 5}
    events = batch["input"]["events"]
    assert [e["data"]["order_id"] for e in events] == orders  # in sequence order
    assert [e["sequence_id"] for e in events] == [p["sequence_id"] for p in published]


def test_every_message_delivered_three_times_still_puts_each_event_in_one_batch(
    emulator: Emulator, api: ApiClient
) -> None:
    assert emulator.stack is not None
    url = emulator.stack.batch_queues["batch-processor"]  # batch_size=10, window 30 s
    sqs = emulator.client("sqs")
    published = [api.publish("analytics/events", {"click": i}) for i in range(10)]
    # SQS delivers every message twice more, in other batches: each body twice in a row,
    # so the next batches hold the first five events, then the last five
    bodies = [
        json.dumps({"workflow": "batch-processor", "topic": "analytics/events",
                    "sequence_id": p["sequence_id"], "id": p["id"]}, separators=(",", ":"))
        for p in published
    ]  # fmt: skip
    twice = [body for body in bodies for _ in range(2)]
    for start in range(0, len(twice), 10):
        entries = [
            {"Id": str(i), "MessageBody": b} for i, b in enumerate(twice[start : start + 10])
        ]
        sqs.send_message_batch(QueueUrl=url, Entries=entries)
    eventually(lambda: queue_is_drained(emulator, url), bool)  # 30 messages, 3 full batches
    done = eventually(
        lambda: batches(api, "batch-processor"),
        lambda found: sum(len(b["input"]["events"]) for b in found) >= 10,
    )
    seen = Counter(e["id"] for b in done for e in b["input"]["events"])
    assert seen == Counter({p["id"]: 1 for p in published})
    assert all(b["status"] == "completed" for b in done)
    assert sum(b["output"]["processed"] for b in done) == 10
