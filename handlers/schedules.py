"""The schedules Lambda: EventBridge Scheduler's tick -> at most one execution.

Every schedule of the stack (declared in the template, or created at run time through
the API) targets this function with ``{"workflow_id", "key", "scheduled_time"}`` (and a
runtime schedule's ``generation``); Scheduler fills ``scheduled_time`` with the tick's
nominal time. ``sdk.schedules.ticks.Ticker`` derives the execution id from the schedule
and that time, so a retried or duplicated tick starts nothing new. An AWS error fails
the invocation: Scheduler retries the tick, then sends it to the schedules' dead-letter
queue. A malformed tick raises and ends there too, having written nothing.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger

from handlers.config import HandlerSettings, journal_from_environ, runner_from_environ
from sdk.app import App
from sdk.schedules.ticks import Ticker, TickRequest

logger = Logger(service="stepline-schedules")


def build_ticker_from_environment() -> Ticker:
    settings = HandlerSettings.from_environ()
    journal = journal_from_environ(settings)
    invoker = runner_from_environ()
    return Ticker(App.from_modules(settings.app_modules), journal, invoker)


_ticker: Ticker | None = None


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, str | None]:
    """The Lambda entry point: one tick of one schedule."""
    global _ticker
    if _ticker is None:
        _ticker = build_ticker_from_environment()
    result = _ticker.tick(TickRequest.from_event(event)).to_dict()
    logger.info("tick", extra=result)
    return result
