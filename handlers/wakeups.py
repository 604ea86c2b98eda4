"""The wake-ups Lambda: due messages of the timer queue -> asynchronous runner invocations.

The timer queue's event source mapping hands this function batches of wake-ups
``{"execution_id": ..., "wake_at": iso}`` once their ``DelaySeconds`` have passed. Each
record starts one ``Event`` invocation of the runner. Records are settled one by one
(Powertools' batch utility, ``ReportBatchItemFailures``): a record whose body is not a
wake-up or whose invocation failed is reported, and SQS delivers it again after the
queue's visibility timeout, alone, until its receive count sends it to the dead-letter
queue. A wake-up delivered twice is harmless: the runner finds nothing to do.

The runner is ``STEPLINE_RUNNER_ARN`` (or ``STEPLINE_RUNNER_FUNCTION``); tests build
``WakeUps`` around their own invoker instead.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.parser.models import SqsRecordModel
from pydantic import BaseModel, Field, Json

from sdk.client import Invoker, LambdaInvoker

logger = Logger(service="stepline-wakeups")


class WakeUp(BaseModel):
    """The body of a timer message (``sdk.aws_timers.wake_up_body``)."""

    execution_id: str = Field(min_length=1)
    wake_at: str | None = None


class WakeUpRecord(SqsRecordModel):
    """An SQS record whose body is a wake-up."""

    body: Json[WakeUp]


class WakeUps:
    """The handler, bound to the invoker that starts the runner."""

    def __init__(self, invoker: Invoker) -> None:
        self.invoker = invoker
        self._processor = BatchProcessor(event_type=EventType.SQS, model=WakeUpRecord)

    def __call__(self, event: Mapping[str, Any], context: Any) -> dict[str, Any]:
        response = process_partial_response(
            event=dict(event),
            record_handler=self._wake,
            processor=self._processor,
            context=context,
        )
        return dict(response)

    def _wake(self, record: WakeUpRecord) -> None:
        wake_up: WakeUp = record.body
        self.invoker.invoke_async(wake_up.execution_id)
        logger.info(
            "runner woken",
            extra={
                "execution_id": wake_up.execution_id,
                "wake_at": wake_up.wake_at,
                "message_id": record.messageId,
            },
        )


def build_wakeups_from_environment(environ: Mapping[str, str] | None = None) -> WakeUps:
    """The wake-ups handler of a deployed app, invoking ``STEPLINE_RUNNER_ARN``."""
    env = os.environ if environ is None else environ
    runner = env.get("STEPLINE_RUNNER_ARN") or env.get("STEPLINE_RUNNER_FUNCTION")
    if not runner:
        raise RuntimeError(
            "missing environment variables: STEPLINE_RUNNER_ARN or STEPLINE_RUNNER_FUNCTION"
        )
    return WakeUps(LambdaInvoker(boto3.client("lambda"), runner))


_wakeups: WakeUps | None = None


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The Lambda entry point."""
    global _wakeups
    if _wakeups is None:
        _wakeups = build_wakeups_from_environment()
    return _wakeups(event, context)
