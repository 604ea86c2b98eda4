"""The batch handler: an SQS batch of a batched workflow's queue -> one execution, the
messages that can never be batched reported (Powertools' partial batch response)."""

from __future__ import annotations

from typing import Any

import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

from handlers.batches import Batches
from sdk import BatchEventPayload, WorkflowContext, workflow
from sdk.clock import VirtualClock
from sdk.events.feeds import BatchItem
from sdk.events.topics import InvalidEventError
from sdk.journal.memory import MemoryJournal
from sdk.journal.records import ExecutionStatus
from tests.support import FakeLambdaContext, Harness


@workflow(id="hb-batch", trigger_on_event="hb/clicks", batch_size=10, batch_timeout_seconds=5)
async def hb_batch(ctx: WorkflowContext, payload: BatchEventPayload) -> int:
    return len(payload.events)


def sqs_event(bodies: list[str]) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": f"m-{i}",
                "receiptHandle": f"r-{i}",
                "body": body,
                "attributes": {"ApproximateReceiveCount": "1"},
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:q",
                "awsRegion": "us-east-1",
            }
            for i, body in enumerate(bodies)
        ]
    }


@pytest.fixture
def h() -> Harness:
    h = Harness.build(MemoryJournal(), VirtualClock(), [hb_batch])
    h.windows.rules["hb-batch"] = (10**6, h.windows.rules["hb-batch"][1])  # hold them
    return h


def test_a_batch_of_messages_starts_one_execution_and_reports_no_failure(h: Harness) -> None:
    for n in range(3):
        h.client.publish_event("hb/clicks", {"n": n})
    bodies = [item.to_message() for item in h.windows.pending("hb-batch")]
    handler = Batches(h.batcher)
    assert handler(sqs_event(bodies), FakeLambdaContext()) == {"batchItemFailures": []}
    assert handler(sqs_event(bodies), FakeLambdaContext()) == {"batchItemFailures": []}
    [record] = h.client.list_executions()
    assert record.status is ExecutionStatus.COMPLETED and h.client.output_of(record) == 3


def test_messages_that_cannot_be_batched_are_reported_and_the_others_batched(h: Harness) -> None:
    published = h.client.publish_event("hb/clicks", {"n": 1})
    [good] = [item.to_message() for item in h.windows.pending("hb-batch")]
    bad = [
        "not json",
        '{"workflow": "hb-batch"}',
        BatchItem("hb-batch", "hb/clicks", 9, "evt-unknown").to_message(),
        BatchItem("elsewhere", "hb/clicks", published.sequence_id, published.id).to_message(),
    ]
    answer = Batches(h.batcher)(sqs_event([good, *bad]), FakeLambdaContext())
    failed = [f["itemIdentifier"] for f in answer["batchItemFailures"]]
    assert failed == ["m-1", "m-2", "m-3", "m-4"]
    [record] = h.client.list_executions()
    assert h.client.output_of(record) == 1


def test_a_batch_of_nothing_but_bad_messages_fails_whole(h: Harness) -> None:
    with pytest.raises(BatchProcessingError):
        Batches(h.batcher)(sqs_event(["[]"]), FakeLambdaContext())


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ("{", "must be JSON"),
        ("[1]", "is {\"workflow\""),
        ('{"workflow": "w", "topic": "t", "sequence_id": 0, "id": "e"}', "must be >= 1"),
        ('{"workflow": "w", "topic": "t", "sequence_id": true, "id": "e"}', "must be >= 1"),
        ('{"workflow": 1, "topic": "t", "sequence_id": 1, "id": "e"}', "must be a string"),
        ('{"workflow": "w", "topic": "", "sequence_id": 1, "id": "e"}', "is not valid"),
        ('{"workflow": "w", "topic": "t", "sequence_id": 1, "id": ""}', "non-empty"),
        ('{"workflow": "w", "topic": "t", "sequence_id": 1, "id": "e", "x": 1}', "is {"),
    ],
)
def test_a_malformed_batch_message_is_refused_naming_the_problem(body: str, problem: str) -> None:
    with pytest.raises(InvalidEventError, match=problem):
        BatchItem.from_message(body)


def test_a_batch_item_round_trips_through_its_message() -> None:
    item = BatchItem("w", "a/b", 12, "evt-1")
    assert BatchItem.from_message(item.to_message()) == item
