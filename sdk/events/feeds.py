"""Sending the events of batched workflows to their queues.

A ``BatchItem`` names one event for one batched workflow; it is the body of one message
of that workflow's queue. A ``BatchFeed`` is where publishers send them: SQS queues on
AWS (``SqsBatchFeed``), the fixture's in-memory windows in tests. Sending an item twice
is harmless (``sdk.events.batches`` puts each event in one batch).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sdk.errors import SteplineError, TransientInfrastructureError
from sdk.events.topics import InvalidEventError, check_event_id, check_topic

SQS_SEND_BATCH = 10  # SendMessageBatch's limit
MESSAGE_FIELDS = frozenset({"workflow", "topic", "sequence_id", "id"})


@dataclass(frozen=True, order=True)
class BatchItem:
    """One event for one batched workflow: the body of one message of its queue."""

    workflow_id: str
    topic: str
    sequence_id: int
    event_id: str

    @property
    def key(self) -> tuple[str, int]:
        return (self.topic, self.sequence_id)

    def to_message(self) -> str:
        return json.dumps(
            {
                "workflow": self.workflow_id,
                "topic": self.topic,
                "sequence_id": self.sequence_id,
                "id": self.event_id,
            },
            separators=(",", ":"),
        )

    @classmethod
    def from_message(cls, body: str) -> BatchItem:
        """The item a message carries; ``InvalidEventError`` naming what is wrong."""
        try:
            fields = json.loads(body)
        except (TypeError, ValueError):
            raise InvalidEventError(f"a batch message must be JSON, got {body[:80]!r}") from None
        if not isinstance(fields, dict) or set(fields) != MESSAGE_FIELDS:
            raise InvalidEventError(
                'a batch message is {"workflow", "topic", "sequence_id", "id"}, '
                f"got {body[:120]!r}"
            )
        sequence_id = fields["sequence_id"]
        if isinstance(sequence_id, bool) or not isinstance(sequence_id, int) or sequence_id < 1:
            raise InvalidEventError(f"a batch message's sequence_id must be >= 1: {body[:120]!r}")
        if not isinstance(fields["workflow"], str):
            raise InvalidEventError(f"a batch message's workflow must be a string: {body[:120]!r}")
        return cls(
            fields["workflow"],
            check_topic(fields["topic"]),
            sequence_id,
            check_event_id(fields["id"]),
        )


class BatchFeed(Protocol):
    """Where publishers send the events of batched workflows (their queues)."""

    def takes(self, workflow_id: str) -> bool:
        """Whether ``workflow_id`` has a queue here."""
        ...

    def send(self, items: Sequence[BatchItem]) -> None:
        """Queue ``items``; raises if any may not have been queued (they are sent again)."""
        ...


class SqsBatchFeed:
    """A ``BatchFeed`` of SQS queues: ``queues`` maps each batched workflow to its URL."""

    def __init__(self, sqs: Any, queues: Mapping[str, str]) -> None:
        self._sqs = sqs
        self.queues = dict(queues)

    def takes(self, workflow_id: str) -> bool:
        return workflow_id in self.queues

    def send(self, items: Sequence[BatchItem]) -> None:
        by_queue: dict[str, list[BatchItem]] = defaultdict(list)
        for item in items:
            url = self.queues.get(item.workflow_id)
            if url is None:
                raise SteplineError(
                    f"workflow {item.workflow_id!r} takes batches but has no queue; "
                    "redeploy the stack (stepline synth) so it gets one"
                )
            by_queue[url].append(item)
        for url, queued in by_queue.items():
            for start in range(0, len(queued), SQS_SEND_BATCH):
                chunk = queued[start : start + SQS_SEND_BATCH]
                response = self._sqs.send_message_batch(
                    QueueUrl=url,
                    Entries=[
                        {"Id": str(index), "MessageBody": item.to_message()}
                        for index, item in enumerate(chunk)
                    ],
                )
                if response.get("Failed"):
                    raise TransientInfrastructureError(
                        f"queueing {len(response['Failed'])} batch messages failed: "
                        f"{response['Failed'][0].get('Message', '')}"
                    )
