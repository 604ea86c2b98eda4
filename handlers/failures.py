"""The runner's on-failure destination: an execution whose invocations are exhausted fails.

Lambda retries an asynchronous invocation twice; when the last attempt fails too it
sends a destination record here. The execution is then marked ``failed`` with the
reason, so it never stays ``running`` with nobody to finish it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import boto3
from aws_lambda_powertools import Logger

from handlers.config import HandlerSettings
from sdk.clock import Clock, SystemClock
from sdk.failures import ErrorInfo
from sdk.journal.base import Journal
from sdk.journal.dynamodb import DynamoJournal, client_config

logger = Logger(service="stepline-failures")
EXHAUSTED_TYPE = "stepline:InvocationsExhausted"


@dataclass(frozen=True)
class FailedInvocation:
    """The parts of Lambda's destination record that matter here."""

    execution_id: str
    condition: str
    attempts: int
    error_type: str
    error_message: str

    @classmethod
    def parse(cls, event: Any) -> FailedInvocation:
        if not isinstance(event, Mapping):
            raise ValueError("a destination record must be an object")
        context = event.get("requestContext") or {}
        payload = event.get("requestPayload")
        if isinstance(payload, str):
            payload = json.loads(payload)
        if not isinstance(payload, Mapping) or not isinstance(payload.get("execution_id"), str):
            raise ValueError(f"destination record without an execution_id: {event!r}")
        response = event.get("responsePayload") or {}
        if not isinstance(response, Mapping):
            response = {"errorMessage": str(response)}
        return cls(
            execution_id=payload["execution_id"],
            condition=str(context.get("condition", "RetriesExhausted")),
            attempts=int(context.get("approximateInvokeCount", 0)),
            error_type=str(response.get("errorType", "Unhandled")),
            error_message=str(response.get("errorMessage", "")),
        )

    def error(self) -> ErrorInfo:
        return ErrorInfo(
            type=EXHAUSTED_TYPE,
            message=(
                f"the runner failed {self.attempts} times ({self.condition}); "
                f"last error: {self.error_type}: {self.error_message}"
            ),
        )


class FailureRecorder:
    def __init__(self, journal: Journal, clock: Clock | None = None) -> None:
        self.journal = journal
        self.clock: Clock = clock or SystemClock()

    def __call__(self, event: Any, context: Any) -> dict[str, Any]:
        failed = FailedInvocation.parse(event)
        marked = self.journal.fail_execution(
            failed.execution_id, error=failed.error(), now=self.clock.now()
        )
        logger.warning(
            "execution failed: invocations exhausted" if marked else "already finished",
            extra={"execution_id": failed.execution_id, "reason": failed.error().message},
        )
        return {"execution_id": failed.execution_id, "marked_failed": marked}


_recorder: FailureRecorder | None = None


def handler(event: Any, context: Any) -> dict[str, Any]:
    """The Lambda entry point."""
    global _recorder
    if _recorder is None:
        settings = HandlerSettings.from_environ()
        _recorder = FailureRecorder(
            DynamoJournal(boto3.client("dynamodb", config=client_config()), settings.table_name)
        )
    return _recorder(event, context)
