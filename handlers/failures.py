"""The runner's on-failure destination: an execution whose invocations are exhausted fails.

Lambda retries an asynchronous invocation twice; when the last attempt fails too it
sends a destination record here. An invocation that failed on a transient AWS error
(throttling, 5xx, connection) or was dropped for its age is re-driven: those are not
the execution's fault. Otherwise the execution is marked ``failed`` with the reason,
unless a live invocation holds its lease (that one decides), and a waiting parent is told.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools import Logger

from handlers.config import HandlerSettings, journal_from_environ, runner_from_environ
from sdk.client import Invoker
from sdk.clock import Clock, SystemClock
from sdk.delivery import deliver_outcome
from sdk.failures import ErrorInfo
from sdk.journal.base import Journal
from sdk.transient import names_transient_error

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

    @property
    def transient(self) -> bool:
        """Dropped for its age, or failed on throttling, a 5xx or a lost connection."""
        return self.condition == "EventAgeExceeded" or names_transient_error(
            self.error_type, self.error_message
        )


class FailureRecorder:
    """Fails (or re-drives) an execution whose runner invocations are exhausted."""

    def __init__(self, journal: Journal, invoker: Invoker, clock: Clock | None = None) -> None:
        self.journal = journal
        self.invoker = invoker
        self.clock: Clock = clock or SystemClock()

    def __call__(self, event: Any, context: Any) -> dict[str, Any]:
        failed = FailedInvocation.parse(event)
        extra = {"execution_id": failed.execution_id, "reason": failed.error().message}
        if failed.transient:
            self.invoker.invoke_async(failed.execution_id)
            logger.warning("invocations failed on transient errors: re-driven", extra=extra)
            return {"execution_id": failed.execution_id, "marked_failed": False, "redriven": True}
        now = self.clock.now()
        record = self.journal.fail_execution(failed.execution_id, error=failed.error(), now=now)
        if record is not None:
            deliver_outcome(self.journal, self.invoker, record, now=now)
        logger.warning(
            "execution failed: invocations exhausted"
            if record is not None
            else "not failed: finished, or a live invocation holds it",
            extra=extra,
        )
        return {
            "execution_id": failed.execution_id,
            "marked_failed": record is not None,
            "redriven": False,
        }


_recorder: FailureRecorder | None = None


def handler(event: Any, context: Any) -> dict[str, Any]:
    """The Lambda entry point."""
    global _recorder
    if _recorder is None:
        settings = HandlerSettings.from_environ()
        _recorder = FailureRecorder(
            journal_from_environ(settings),
            runner_from_environ(),
        )
    return _recorder(event, context)
