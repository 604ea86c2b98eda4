"""Wake-ups on AWS: an SQS message delay up to 15 minutes, a one-time schedule past that.

A wait due within ``MAX_DELAY_SECONDS`` becomes a message on the stack's timer queue
with ``DelaySeconds`` rounded up to the second, so it is never delivered early; the
wake-ups function turns it into a runner invocation about a second after it is due.
A longer wait becomes an EventBridge Scheduler one-time ``at()`` schedule in the
stack's own schedule group, which invokes the runner and deletes itself.

Both carry ``{"execution_id": ..., "wake_at": iso}``. Scheduling the same wait twice
(a replay) may send two messages; the runner tolerates the duplicate wake-up. The
schedule's name is derived from the wait, so the second ``CreateSchedule`` meets a
``ConflictException``, which means the wake-up is already scheduled.

Any other AWS error propagates: it is an infrastructure error, so the invocation
fails and is retried, and it schedules the wake-up again when it suspends.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from botocore.config import Config
from botocore.exceptions import ClientError

from sdk.clock import Clock, SystemClock
from sdk.journal.records import iso

if TYPE_CHECKING:
    from mypy_boto3_scheduler import EventBridgeSchedulerClient
    from mypy_boto3_scheduler.type_defs import TargetTypeDef
    from mypy_boto3_sqs import SQSClient

MAX_DELAY_SECONDS = 900  # SQS's limit on DelaySeconds
SCHEDULE_NAME_LIMIT = 64
DIGEST_LENGTH = 26  # base32 characters: 130 bits of the wait's identity
MAX_PREFIX_LENGTH = SCHEDULE_NAME_LIMIT - DIGEST_LENGTH - 1
_NAME_CHARACTERS = re.compile(r"^[0-9A-Za-z_.-]+$")


def client_config() -> Config:
    """botocore settings for the timer clients: standard retries, which back off on throttling."""
    return Config(retries={"mode": "standard", "max_attempts": 5})


@dataclass(frozen=True)
class TimerRoutes:
    """Where the wake-ups of one stack go.

    Attributes:
        queue_url: The timer queue (waits up to 15 minutes).
        schedule_group: The stack's EventBridge Scheduler group (longer waits).
        schedule_prefix: Starts every schedule name; unique to the stack, at most
            ``MAX_PREFIX_LENGTH`` characters of ``[0-9A-Za-z_.-]``.
        runner_arn: The function a schedule invokes.
        scheduler_role_arn: The role EventBridge Scheduler assumes to invoke it.
        dead_letter_arn: The SQS queue a schedule sends its wake-up to when it cannot
            invoke the runner (none: Scheduler drops it after its retries).
    """

    queue_url: str
    schedule_group: str
    schedule_prefix: str
    runner_arn: str
    scheduler_role_arn: str
    dead_letter_arn: str | None = None

    def __post_init__(self) -> None:
        prefix = self.schedule_prefix
        if not _NAME_CHARACTERS.match(prefix) or len(prefix) > MAX_PREFIX_LENGTH:
            raise ValueError(
                f"schedule prefix {prefix!r} must be 1 to {MAX_PREFIX_LENGTH} characters "
                "of [0-9A-Za-z_.-]"
            )


def delay_seconds(wake_at: datetime, now: datetime) -> int:
    """Whole seconds from ``now`` until ``wake_at``, rounded up (never early), at least 0."""
    return max(0, math.ceil((wake_at - now).total_seconds()))


def schedule_name(prefix: str, execution_id: str, key: str) -> str:
    """``{prefix}-{digest}``: the same wait always gets the same name, within 64 characters.

    The digest covers the prefix too, and has a fixed length with no ``-``, so two
    different prefixes can never produce the same name.
    """
    identity = "\x1f".join((prefix, execution_id, key)).encode()
    digest = base64.b32encode(hashlib.sha256(identity).digest()).decode().lower()
    return f"{prefix}-{digest[:DIGEST_LENGTH]}"


def wake_up_body(execution_id: str, wake_at: datetime) -> str:
    """What a wake-up carries to the runner (through the queue or a schedule)."""
    return json.dumps({"execution_id": execution_id, "wake_at": iso(wake_at)})


class AwsTimers:
    """The ``Timers`` of a deployed stack: SQS delays, then EventBridge Scheduler."""

    def __init__(
        self,
        sqs: SQSClient,
        scheduler: EventBridgeSchedulerClient,
        routes: TimerRoutes,
        clock: Clock | None = None,
    ) -> None:
        self._sqs = sqs
        self._scheduler = scheduler
        self.routes = routes
        self._clock: Clock = clock or SystemClock()

    def schedule(self, execution_id: str, key: str, wake_at: datetime) -> None:
        delay = delay_seconds(wake_at, self._clock.now())
        if delay <= MAX_DELAY_SECONDS:
            self._sqs.send_message(
                QueueUrl=self.routes.queue_url,
                MessageBody=wake_up_body(execution_id, wake_at),
                DelaySeconds=delay,
            )
        else:
            self._create_schedule(execution_id, key, wake_at)

    def schedule_name(self, execution_id: str, key: str) -> str:
        return schedule_name(self.routes.schedule_prefix, execution_id, key)

    def _create_schedule(self, execution_id: str, key: str, wake_at: datetime) -> None:
        # at() takes whole seconds: round up, so the wake-up is never early.
        at = (wake_at + timedelta(microseconds=999_999)).astimezone(UTC).replace(microsecond=0)
        routes = self.routes
        target: TargetTypeDef = {
            "Arn": routes.runner_arn,
            "RoleArn": routes.scheduler_role_arn,
            # The exact time rides along: at() holds whole seconds only.
            "Input": wake_up_body(execution_id, wake_at),
        }
        if routes.dead_letter_arn:
            target["DeadLetterConfig"] = {"Arn": routes.dead_letter_arn}
        try:
            self._scheduler.create_schedule(
                Name=self.schedule_name(execution_id, key),
                GroupName=routes.schedule_group,
                ScheduleExpression=f"at({at:%Y-%m-%dT%H:%M:%S})",
                ScheduleExpressionTimezone="UTC",
                FlexibleTimeWindow={"Mode": "OFF"},
                ActionAfterCompletion="DELETE",
                Target=target,
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ConflictException":
                raise
