"""Schedules: cron workflows on EventBridge Scheduler (``sdk.schedules``).

The declaration (``spec``), cron conversion and fire times (``cron``) live here; the
runtime pieces import from their modules: the schedule store (``store``,
``dynamodb_store``), ticks (``ticks``), the client's ``client.schedules`` (``manager``),
EventBridge Scheduler (``aws``) and the virtual clock's ticker (``virtual``).
"""

from sdk.schedules.cron import aws_expression, check_cron, check_timezone, fire_times, next_fire
from sdk.schedules.spec import (
    DEFAULT_KEY,
    OVERLAP_ALLOW,
    OVERLAP_SKIP,
    Schedule,
    parse_schedule,
    schedule_id,
)

__all__ = [
    "DEFAULT_KEY",
    "OVERLAP_ALLOW",
    "OVERLAP_SKIP",
    "Schedule",
    "aws_expression",
    "check_cron",
    "check_timezone",
    "fire_times",
    "next_fire",
    "parse_schedule",
    "schedule_id",
]
