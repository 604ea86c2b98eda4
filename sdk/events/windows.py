"""Batch windows in memory, on a clock: SQS and Lambda's event source mapping for the
in-process fixture and the unit tests.

Each batched workflow has a queue of ``BatchItem``; a batch is delivered as soon as
``batch_size`` items are there, or once ``batch_timeout_seconds`` have passed since the
first one arrived (``fire``; with no timeout, at once with what is there). A delivery
that raises comes back ``retry_after`` later, as a message does after its visibility
timeout; items the batcher reports as failed are dropped (logged), as SQS moves them to
the dead-letter queue. ``next_due`` tells a virtual clock where to stop.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sdk.clock import Clock
from sdk.errors import SteplineError
from sdk.events.batches import BatchResult
from sdk.events.feeds import BatchItem
from sdk.workflow import Workflow

logger = logging.getLogger("stepline.events")
RETRY_AFTER = timedelta(seconds=30)  # a batch queue's visibility timeout, roughly

Entry = tuple[datetime, BatchItem]  # (visible from, item)


class ManualBatchWindows:
    """A ``BatchFeed`` and a ``VirtualDue``: the batch queues of ``workflows``."""

    def __init__(
        self,
        workflows: Iterable[Workflow[Any]],
        start: Callable[[Sequence[BatchItem]], BatchResult],
        clock: Clock,
        *,
        retry_after: timedelta = RETRY_AFTER,
    ) -> None:
        self.rules = {
            wf.id: (wf.batch_size, timedelta(seconds=wf.batch_timeout_seconds or 0))
            for wf in workflows
            if wf.batch_size is not None
        }
        self._start = start
        self._clock = clock
        self._retry_after = retry_after
        self._lock = threading.Lock()
        self._queues: dict[str, list[Entry]] = {workflow: [] for workflow in self.rules}
        self.deliveries: list[list[BatchItem]] = []  # every batch handed to the batcher

    def send(self, items: Sequence[BatchItem]) -> None:
        now = self._clock.now()
        with self._lock:
            for item in items:
                if item.workflow_id not in self._queues:
                    raise SteplineError(f"workflow {item.workflow_id!r} has no batch queue")
            for item in items:
                self._queues[item.workflow_id].append((now, item))
        self.fire(now)

    def takes(self, workflow_id: str) -> bool:
        return workflow_id in self.rules

    def pending(self, workflow_id: str) -> list[BatchItem]:
        """The items waiting for a batch of ``workflow_id``."""
        with self._lock:
            return [item for _, item in self._queues.get(workflow_id, [])]

    def next_due(self) -> datetime | None:
        with self._lock:
            dues = [
                queue[0][0] + self.rules[workflow][1]
                for workflow, queue in self._queues.items()
                if queue
            ]
        return min(dues, default=None)

    def fire(self, now: datetime) -> int:
        """Deliver every batch that is full or whose window has passed; how many."""
        delivered = 0
        while batch := self._take(now):
            delivered += 1
            self.deliveries.append(batch)
            try:
                result = self._start(batch)
            except Exception:
                logger.exception("a batch of %s failed; it comes back", batch[0].workflow_id)
                with self._lock:
                    queue = self._queues[batch[0].workflow_id]
                    queue += [(now + self._retry_after, item) for item in batch]
                    queue.sort(key=lambda entry: entry[0])
                continue
            for item in result.failed:
                logger.error("dropped batch message %s (as to a dead-letter queue)", item)
        return delivered

    def _take(self, now: datetime) -> list[BatchItem]:
        """The next batch due at ``now``, taken off its queue; empty if none is."""
        with self._lock:
            for workflow, queue in self._queues.items():
                size, window = self.rules[workflow]
                visible = [entry for entry in queue if entry[0] <= now]
                if visible and (len(visible) >= size or visible[0][0] + window <= now):
                    taken = visible[:size]
                    for entry in taken:
                        queue.remove(entry)
                    return [item for _, item in taken]
        return []
