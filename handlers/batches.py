"""The batch Lambda: a batch of messages from a batched workflow's queue -> one execution.

Each batched workflow has a queue the publishers feed (``sdk.events.feeds``) and an event
source mapping with ``BatchSize`` = ``batch_size`` and ``MaximumBatchingWindowInSeconds``
= ``batch_timeout_seconds``: Lambda hands this function up to ``batch_size`` messages, or
what arrived within the window. ``sdk.events.batches.Batcher`` claims their events and
starts one execution of the workflow with a ``BatchEventPayload``; a redelivered batch,
whole or in part, starts nothing twice. Records are settled by Powertools' batch utility
(``ReportBatchItemFailures``): a message that is not a batch item, or names a workflow
or an event that does not exist, is reported and ends in the dead-letter queue; when
the journal cannot be written the whole batch fails and comes back.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from handlers.config import HandlerSettings, journal_from_environ, runner_from_environ
from sdk.app import App
from sdk.events import InvalidEventError
from sdk.events.batches import Batcher
from sdk.events.feeds import BatchItem
from sdk.events.log import log_for

logger = Logger(service="stepline-batches")


class Batches:
    """The handler, bound to the batcher that claims events and starts executions."""

    def __init__(self, batcher: Batcher) -> None:
        self.batcher = batcher

    def __call__(self, event: Mapping[str, Any], context: Any) -> dict[str, Any]:
        items: dict[str, BatchItem] = {}
        for record in event.get("Records", []):
            try:
                items[record["messageId"]] = BatchItem.from_message(record.get("body", ""))
            except InvalidEventError as exc:
                logger.error("not a batch message", extra={"reason": str(exc)})
        result = self.batcher.start(list(items.values()))  # raises: the batch comes back
        failed = set(result.failed)
        logger.info(
            "batch",
            extra={"messages": len(items), "started": result.started, "failed": len(failed)},
        )

        def settle(record: SQSRecord) -> None:
            item = items.get(record.message_id)
            if item is None or item in failed:
                raise InvalidEventError(f"message {record.message_id} cannot be batched")

        response = process_partial_response(
            event=dict(event),
            record_handler=settle,
            processor=BatchProcessor(event_type=EventType.SQS),
            context=context,
        )
        return dict(response)


def build_batches_from_environment() -> Batches:
    settings = HandlerSettings.from_environ()
    journal = journal_from_environ(settings)
    log = log_for(journal)
    assert log is not None  # the DynamoDB journal keeps one
    invoker = runner_from_environ()
    return Batches(Batcher(App.from_modules(settings.app_modules), journal, log, invoker))


_batches: Batches | None = None


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The Lambda entry point: one batch of one batched workflow's queue."""
    global _batches
    if _batches is None:
        _batches = build_batches_from_environment()
    return _batches(event, context)
