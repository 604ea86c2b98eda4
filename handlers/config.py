"""Settings the Lambda handlers read from their environment, read once at cold start."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import boto3

from sdk.aws_timers import TimerRoutes
from sdk.aws_timers import client_config as scheduler_config
from sdk.client import LambdaInvoker
from sdk.events.feeds import SqsBatchFeed
from sdk.journal.dynamodb import DynamoJournal, client_config
from sdk.journal.retention import DEFAULT_LIFETIME_DAYS, DEFAULT_RETENTION_DAYS, Retention
from sdk.sizes import DEFAULT_MAX_VALUE
from sdk.values import S3ValueStore, ValueStore

if TYPE_CHECKING:
    from sdk.schedules.aws import AwsScheduleBackend


@dataclass(frozen=True)
class HandlerSettings:
    """``STEPLINE_APP`` (comma-separated modules) and ``STEPLINE_TABLE`` (the journal table)."""

    app_modules: tuple[str, ...]
    table_name: str

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> HandlerSettings:
        env = os.environ if environ is None else environ
        missing = [name for name in ("STEPLINE_APP", "STEPLINE_TABLE") if not env.get(name)]
        if missing:
            raise RuntimeError(f"missing environment variables: {', '.join(missing)}")
        modules = tuple(m.strip() for m in env["STEPLINE_APP"].split(",") if m.strip())
        return cls(app_modules=modules, table_name=env["STEPLINE_TABLE"])


TIMER_VARIABLES = {
    "queue_url": "STEPLINE_TIMER_QUEUE_URL",
    "schedule_group": "STEPLINE_SCHEDULE_GROUP",
    "schedule_prefix": "STEPLINE_SCHEDULE_PREFIX",
    "runner_arn": "STEPLINE_RUNNER_ARN",
    "scheduler_role_arn": "STEPLINE_SCHEDULER_ROLE_ARN",
    "dead_letter_arn": "STEPLINE_SCHEDULE_DLQ_ARN",
}


def timer_routes_from_environ(environ: Mapping[str, str] | None = None) -> TimerRoutes:
    """Where the runner sends wake-ups: the ``STEPLINE_*`` variables of ``TIMER_VARIABLES``."""
    env = os.environ if environ is None else environ
    missing = [name for name in TIMER_VARIABLES.values() if not env.get(name)]
    if missing:
        raise RuntimeError(f"missing environment variables: {', '.join(missing)}")
    return TimerRoutes(**{field: env[name] for field, name in TIMER_VARIABLES.items()})


BATCH_QUEUES_VARIABLE = "STEPLINE_BATCH_QUEUES"


def batch_feed_from_environ(environ: Mapping[str, str] | None = None) -> SqsBatchFeed | None:
    """The queues of the app's batched workflows: ``STEPLINE_BATCH_QUEUES``, a JSON object
    mapping each batched workflow to its queue URL (none when the app has none)."""
    env = os.environ if environ is None else environ
    raw = env.get(BATCH_QUEUES_VARIABLE, "").strip()
    if not raw:
        return None
    try:
        queues = json.loads(raw)
    except ValueError:
        queues = None
    if not isinstance(queues, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and v for k, v in queues.items()
    ):
        raise RuntimeError(
            f"{BATCH_QUEUES_VARIABLE} must be a JSON object of workflow ids to queue URLs, "
            f"got {raw[:100]!r}"
        )
    return SqsBatchFeed(boto3.client("sqs"), queues)


SCHEDULE_VARIABLES = {
    "group": "STEPLINE_SCHEDULE_GROUP",
    "prefix": "STEPLINE_SCHEDULE_PREFIX",
    "target_arn": "STEPLINE_SCHEDULES_ARN",
    "role_arn": "STEPLINE_SCHEDULER_ROLE_ARN",
    "dead_letter_arn": "STEPLINE_SCHEDULE_DLQ_ARN",
}


def schedule_backend_from_environ(
    environ: Mapping[str, str] | None = None,
) -> AwsScheduleBackend | None:
    """Where the API makes runtime schedules: EventBridge Scheduler, in the group and under
    the prefix of ``SCHEDULE_VARIABLES``; None if they are unset (schedules then only
    tick where a virtual clock fires them)."""
    env = os.environ if environ is None else environ
    if not all(env.get(name) for name in SCHEDULE_VARIABLES.values()):
        return None
    from sdk.schedules.aws import AwsScheduleBackend, ScheduleRoutes

    routes = ScheduleRoutes(**{field: env[name] for field, name in SCHEDULE_VARIABLES.items()})
    return AwsScheduleBackend(boto3.client("scheduler", config=scheduler_config()), routes)


def runner_from_environ() -> LambdaInvoker:
    """Asynchronous invocations of the stack's runner (``STEPLINE_RUNNER_ARN``)."""
    return LambdaInvoker(
        boto3.client("lambda", config=client_config()), os.environ["STEPLINE_RUNNER_ARN"]
    )


def values_from_environ(environ: Mapping[str, str] | None = None) -> ValueStore | None:
    """The stack's value store: S3 bucket ``STEPLINE_VALUES_BUCKET`` (none if unset),
    taking values up to ``STEPLINE_MAX_VALUE_BYTES`` (10 MB by default)."""
    env = os.environ if environ is None else environ
    bucket = env.get("STEPLINE_VALUES_BUCKET")
    if not bucket:
        return None
    max_bytes = int(env.get("STEPLINE_MAX_VALUE_BYTES") or DEFAULT_MAX_VALUE)
    return S3ValueStore(boto3.client("s3"), bucket, max_bytes=max_bytes)


def journal_from_environ(settings: HandlerSettings) -> DynamoJournal:
    """The journal of a deployed app: its table, its bucket for large values, and how
    long its items live."""
    client = boto3.client("dynamodb", config=client_config())
    return DynamoJournal(
        client,
        settings.table_name,
        values=values_from_environ(),
        retention=retention_from_environ(),
    )


RETENTION_DAYS_VARIABLE = "STEPLINE_RETENTION_DAYS"
LIFETIME_DAYS_VARIABLE = "STEPLINE_MAX_LIFETIME_DAYS"
MAX_DAYS = 36_500  # a century: past it, expiry times leave the calendar datetime handles


def retention_from_environ(environ: Mapping[str, str] | None = None) -> Retention:
    """How long the journal keeps finished executions (``STEPLINE_RETENTION_DAYS``, 30 by
    default) and how long an execution may run (``STEPLINE_MAX_LIFETIME_DAYS``, 365).

    Every function of a stack must read the same values (they share ``Globals``).
    Raises ``ValueError`` naming the variable for anything but a whole number of days
    from 1 to ``MAX_DAYS``.
    """
    env = os.environ if environ is None else environ
    return Retention.from_days(
        retention_days=_days(env, RETENTION_DAYS_VARIABLE, DEFAULT_RETENTION_DAYS),
        lifetime_days=_days(env, LIFETIME_DAYS_VARIABLE, DEFAULT_LIFETIME_DAYS),
    )


def _days(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        days = int(raw)
    except ValueError:
        days = 0
    if not 1 <= days <= MAX_DAYS:
        raise ValueError(f"{name} must be a whole number of days from 1 to {MAX_DAYS}, got {raw!r}")
    return days


def live_steps_from_environ(environ: Mapping[str, str] | None = None) -> bool:
    """``STEPLINE_LIVE_STEPS``: ``true`` marks every step's start for live lifecycle streams
    (one more small write per step); ``false`` or unset does not; anything else is refused."""
    env = os.environ if environ is None else environ
    value = env.get("STEPLINE_LIVE_STEPS", "false").strip().lower()
    if value not in ("true", "false"):
        raise RuntimeError(f"STEPLINE_LIVE_STEPS must be 'true' or 'false', got {value!r}")
    return value == "true"
