"""Lambda's SQS poller, on the real clock: receive, invoke the mapped function, delete.

One thread per mapping short-polls its queue (``WaitTimeSeconds=0`` every
``interval``): moto honours ``DelaySeconds`` and visibility timeouts to the
millisecond, but a long poll only notices a delayed message becoming visible when
its one-second wait ends. A batch is what one receive returns, or, with a batching
window, what arrives until the batch is full or the window has passed since its
first message. Each batch is one synchronous invocation with Lambda's SQS event, on
a small pool so a slow batch does not hold up the queue; the messages ``settle``
declares done are deleted, the others become visible again after the queue's
visibility timeout and come back (``ApproximateReceiveCount`` counts the attempts,
and moto moves a message to the dead-letter queue past ``maxReceiveCount``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from local_emulator.lambda_.service import LambdaService
from local_emulator.sqs.models import (
    MAX_RECEIVE,
    EventSourceMapping,
    Message,
    settle,
    sqs_event,
)

logger = logging.getLogger("stepline.emulator")


class QueuePoller:
    """Polls every mapped queue between ``start`` and ``stop``."""

    def __init__(
        self,
        sqs: Any,
        mappings: Iterable[EventSourceMapping],
        lambdas: LambdaService,
        *,
        interval: float = 0.025,
        concurrency: int = 2,
    ) -> None:
        """``concurrency`` bounds the batches of one mapping in flight at once."""
        self._sqs = sqs
        self.mappings = list(mappings)
        self._lambdas = lambdas
        self._interval = interval
        self._concurrency = concurrency
        self._stop = threading.Event()
        self._pool = ThreadPoolExecutor(
            max_workers=max(1, concurrency * len(self.mappings)), thread_name_prefix="sqs-batch"
        )
        self._threads = [
            threading.Thread(
                target=self._run, args=(mapping,), name=f"sqs-{mapping.queue_name}", daemon=True
            )
            for mapping in self.mappings
        ]
        self._lock = threading.Lock()
        self.invocations = 0
        self.deleted = 0  # messages done
        self.returned = 0  # messages left for redelivery

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        """Stop polling; batches in flight end with their invocations."""
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=10)
        self._pool.shutdown(wait=False, cancel_futures=True)

    def _run(self, mapping: EventSourceMapping) -> None:
        slots = threading.BoundedSemaphore(self._concurrency)
        queue_url: str | None = None
        while not self._stop.is_set():
            if not slots.acquire(timeout=self._interval):
                continue
            submitted = False
            try:
                if queue_url is None:
                    queue_url = self._sqs.get_queue_url(QueueName=mapping.queue_name)["QueueUrl"]
                batch = self._collect(mapping, queue_url)
                if batch:
                    future = self._pool.submit(self._deliver, mapping, queue_url, batch)
                    future.add_done_callback(lambda _: slots.release())
                    submitted = True
            except Exception:  # a failed round is logged and tried again
                if not self._stop.is_set():
                    logger.exception("polling %s failed", mapping.queue_name)
            finally:
                if not submitted:
                    slots.release()
            if not submitted:
                self._stop.wait(self._interval)

    def _receive(self, queue_url: str, count: int) -> list[Message]:
        response = self._sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=min(MAX_RECEIVE, count),
            WaitTimeSeconds=0,
            MessageSystemAttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        messages: list[Message] = response.get("Messages", [])
        return messages

    def _collect(self, mapping: EventSourceMapping, queue_url: str) -> list[Message]:
        """One batch: empty if nothing is visible now."""
        batch = self._receive(queue_url, mapping.batch_size)
        if not batch or mapping.batching_window_seconds <= 0:
            return batch
        deadline = time.monotonic() + mapping.batching_window_seconds
        while len(batch) < mapping.batch_size and time.monotonic() < deadline:
            more = self._receive(queue_url, mapping.batch_size - len(batch))
            batch += more
            if not more and self._stop.wait(self._interval):
                break
        return batch

    def _deliver(self, mapping: EventSourceMapping, queue_url: str, batch: list[Message]) -> None:
        try:
            self._invoke(mapping, queue_url, batch)
        except Exception:  # its messages come back after their visibility timeout
            if not self._stop.is_set():
                logger.exception("delivering a batch of %s failed", mapping.queue_name)

    def _invoke(self, mapping: EventSourceMapping, queue_url: str, batch: list[Message]) -> None:
        result = self._lambdas.invoke(mapping.function, sqs_event(batch, mapping))
        done = settle(batch, mapping, result.ok, result.payload)
        for start in range(0, len(done), MAX_RECEIVE):
            entries = [
                {"Id": str(index), "ReceiptHandle": message["ReceiptHandle"]}
                for index, message in enumerate(done[start : start + MAX_RECEIVE])
            ]
            self._sqs.delete_message_batch(QueueUrl=queue_url, Entries=entries)
        with self._lock:
            self.invocations += 1
            self.deleted += len(done)
            self.returned += len(batch) - len(done)
