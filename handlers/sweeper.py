"""The sweeper Lambda, run every minute: re-drives executions that need attention.

See ``sdk.sweeper``: executions whose lease expired, whose start or timer is overdue,
or whose outcome has not yet reached the parent waiting on it.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger

from handlers.config import (
    HandlerSettings,
    batch_feed_from_environ,
    journal_from_environ,
    runner_from_environ,
)
from sdk.sweeper import Sweeper

logger = Logger(service="stepline-sweeper")


def build_sweeper_from_environment() -> Sweeper:
    settings = HandlerSettings.from_environ()
    journal = journal_from_environ(settings)
    invoker = runner_from_environ()
    return Sweeper(journal, invoker, batches=batch_feed_from_environ())


_sweeper: Sweeper | None = None


def handler(event: Any, context: Any) -> dict[str, int]:
    """The Lambda entry point (a scheduled event; its content does not matter)."""
    global _sweeper
    if _sweeper is None:
        _sweeper = build_sweeper_from_environment()
    report = _sweeper.sweep()
    if report.delivered or report.redriven:
        logger.info("swept", extra=report.to_dict())
    return report.to_dict()
