"""The runner Lambda: one invocation of one execution.

Event ``{"execution_id": "..."}`` -> take the lease, load the journal, replay,
run, record the outcome -> ``{"execution_id", "status", "detail"}``. Every log
line carries the execution id and, once loaded, the workflow id.

The app and the journal are built at the first invocation (``STEPLINE_APP``,
``STEPLINE_TABLE``); tests build a ``Runner`` from their own parts instead.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

import boto3
from aws_lambda_powertools import Logger

from handlers.config import (
    HandlerSettings,
    batch_feed_from_environ,
    journal_from_environ,
    live_steps_from_environ,
    timer_routes_from_environ,
)
from sdk import aws_timers
from sdk.app import App
from sdk.client import Invoker, LambdaInvoker
from sdk.clock import SystemClock
from sdk.engine import Engine, Outcome
from sdk.errors import TransientInfrastructureError
from sdk.ids import new_token
from sdk.journal.dynamodb import client_config
from sdk.transient import is_transient

logger = Logger(service="stepline-runner")


class LambdaContext(Protocol):
    @property
    def aws_request_id(self) -> str: ...

    def get_remaining_time_in_millis(self) -> int: ...


@dataclass(frozen=True)
class RunnerEvent:
    """The runner's input."""

    execution_id: str

    @classmethod
    def parse(cls, event: Any) -> RunnerEvent:
        if not isinstance(event, Mapping):
            raise ValueError(f"runner event must be an object, got {type(event).__name__}")
        execution_id = event.get("execution_id")
        if not isinstance(execution_id, str) or not execution_id:
            raise ValueError(f"runner event needs a non-empty 'execution_id', got {event!r}")
        return cls(execution_id=execution_id)


class Runner:
    """The handler, bound to an engine and to the invoker that starts its next invocation."""

    def __init__(self, engine: Engine, reinvoker: Invoker | None = None) -> None:
        self.engine = engine
        self.reinvoker = reinvoker

    def __call__(self, event: Any, context: LambdaContext | None) -> dict[str, Any]:
        request = RunnerEvent.parse(event)
        deadline = None
        # Lambda may deliver one event twice with one request id, so the lease owner is
        # this attempt alone: the request id (for the logs) and a fresh token.
        owner = new_token()
        if context is not None:
            remaining = timedelta(milliseconds=context.get_remaining_time_in_millis())
            deadline = self.engine.clock.now() + remaining
            owner = f"{context.aws_request_id}/{owner[:12]}"
            if remaining <= self.engine.deadline_margin:
                logger.warning(
                    "the runner's time limit is below the deadline margin: one step per "
                    "invocation",
                    extra={"remaining_ms": context.get_remaining_time_in_millis()},
                )
        logger.append_keys(execution_id=request.execution_id, workflow_id=None)
        try:
            outcome = self._invoke(request.execution_id, deadline, owner)
        except Exception as exc:
            if is_transient(exc):  # named so the failure destination re-drives, not fails
                raise TransientInfrastructureError(f"{type(exc).__name__}: {exc}") from exc
            raise
        finally:
            logger.remove_keys(["execution_id", "workflow_id"])
        return outcome.to_dict()

    def _invoke(self, execution_id: str, deadline: Any, owner: str | None) -> Outcome:
        started = self.engine.start(execution_id, deadline=deadline, owner=owner)
        if isinstance(started, Outcome):
            logger.info("invocation skipped", extra={"reason": started.detail})
            return started
        logger.append_keys(workflow_id=started.execution.workflow_id)
        logger.info("invocation started", extra={"attempt": started.execution.attempt})
        outcome = asyncio.run(started.run())
        logger.info("invocation finished", extra=outcome.to_dict())
        if outcome.reinvoke and self.reinvoker is not None:
            self.reinvoker.invoke_async(execution_id)
        return outcome


def build_runner_from_environment() -> Runner:
    """The runner of a deployed app: boto3 DynamoDB journal, app from ``STEPLINE_APP``.

    Wake-ups go to the timer queue or the stack's schedule group (``STEPLINE_TIMER_QUEUE_URL``,
    ``STEPLINE_SCHEDULE_GROUP``, ``STEPLINE_SCHEDULE_PREFIX``, ``STEPLINE_RUNNER_ARN``,
    ``STEPLINE_SCHEDULER_ROLE_ARN``).
    """
    settings = HandlerSettings.from_environ()
    journal = journal_from_environ(settings)
    reinvoker = LambdaInvoker(
        boto3.client("lambda", config=client_config()), os.environ["AWS_LAMBDA_FUNCTION_NAME"]
    )
    clock = SystemClock()
    timers = aws_timers.AwsTimers(
        boto3.client("sqs", config=aws_timers.client_config()),
        boto3.client("scheduler", config=aws_timers.client_config()),
        timer_routes_from_environ(),
        clock,
    )
    engine = Engine(
        App.from_modules(settings.app_modules),
        journal,
        clock,
        timers=timers,
        invoker=reinvoker,
        batches=batch_feed_from_environ(),
        live_steps=live_steps_from_environ(),
    )
    return Runner(engine, reinvoker)


_runner: Runner | None = None


@logger.inject_lambda_context(clear_state=False)
def handler(event: Any, context: Any) -> dict[str, Any]:
    """The Lambda entry point."""
    global _runner
    if _runner is None:
        _runner = build_runner_from_environment()
    return _runner(event, context)
