"""Runtime schedules on EventBridge Scheduler: one recurring schedule per schedule item.

Each schedule ``client.schedules.create`` makes is a ``cron(...)`` schedule in the stack's
schedule group, named ``{prefix}.{digest}`` (the digest of the prefix, the schedule id and
its generation: the same schedule always gets the same name, within 64 characters, and a
schedule created again under the same key gets another, so a late step of a request about
the old one never touches the new one's; the ``.`` keeps these
names apart from the runner's wake-up schedules, ``{prefix}-{digest}``, so each function's
policy names only its own). Its target is the stack's schedules function, with an input
carrying the schedule, its generation and ``<aws.scheduler.scheduled-time>``, which
Scheduler replaces with each tick's nominal time. A paused schedule is ``DISABLED``.

``put`` creates the schedule or, when it exists (a retried create), updates it to the
same definition; ``remove`` deletes it and takes a missing one as already deleted. Other
AWS errors propagate to the caller.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from botocore.exceptions import ClientError

from sdk.aws_timers import DIGEST_LENGTH, MAX_PREFIX_LENGTH
from sdk.schedules.cron import aws_expression
from sdk.schedules.records import ScheduleRecord, State
from sdk.schedules.ticks import TickRequest

if TYPE_CHECKING:
    from mypy_boto3_scheduler import EventBridgeSchedulerClient


class ScheduleBackend(Protocol):
    """Where runtime schedules fire from (none in the in-process fixture: its clock does)."""

    def put(self, record: ScheduleRecord) -> None:
        """Make the schedule fire as ``record`` says (its cron, timezone and state)."""
        ...

    def remove(self, record: ScheduleRecord) -> None:
        """Stop it firing for good; one already gone is taken as removed."""
        ...


@dataclass(frozen=True)
class ScheduleRoutes:
    """Where a stack's runtime schedules live and what they invoke.

    Attributes:
        group: The stack's schedule group.
        prefix: The stack's schedule name prefix (``TimerRoutes.schedule_prefix``).
        target_arn: The schedules function, which turns a tick into an execution.
        role_arn: The role EventBridge Scheduler assumes to invoke it.
        dead_letter_arn: Where Scheduler sends a tick it could not deliver.
    """

    group: str
    prefix: str
    target_arn: str
    role_arn: str
    dead_letter_arn: str | None = None

    def __post_init__(self) -> None:
        if not 0 < len(self.prefix) <= MAX_PREFIX_LENGTH:
            raise ValueError(
                f"schedule prefix {self.prefix!r} must be 1 to {MAX_PREFIX_LENGTH} characters"
            )


def runtime_schedule_name(prefix: str, schedule_id: str, generation: str) -> str:
    """``{prefix}.{digest}``: one name per schedule and generation, unlike any wake-up
    schedule's."""
    identity = "\x1f".join((prefix, "schedule", schedule_id, generation)).encode()
    digest = base64.b32encode(hashlib.sha256(identity).digest()).decode().lower()
    return f"{prefix}.{digest[:DIGEST_LENGTH]}"


class AwsScheduleBackend:
    """Runtime schedules as EventBridge Scheduler schedules in the stack's group."""

    def __init__(self, scheduler: EventBridgeSchedulerClient, routes: ScheduleRoutes) -> None:
        self._scheduler = scheduler
        self.routes = routes

    def name(self, record: ScheduleRecord) -> str:
        return runtime_schedule_name(self.routes.prefix, record.schedule_id, record.generation)

    def definition(self, record: ScheduleRecord) -> dict[str, Any]:
        """The ``CreateSchedule``/``UpdateSchedule`` request for ``record``."""
        routes = self.routes
        body = TickRequest.target_input(record.workflow_id, record.key, record.generation)
        target: dict[str, Any] = {
            "Arn": routes.target_arn,
            "RoleArn": routes.role_arn,
            "Input": json.dumps(body),
        }
        if routes.dead_letter_arn:
            target["DeadLetterConfig"] = {"Arn": routes.dead_letter_arn}
        return {
            "Name": self.name(record),
            "GroupName": routes.group,
            "Description": f"Stepline schedule {record.schedule_id}",
            "ScheduleExpression": aws_expression(record.cron),
            "ScheduleExpressionTimezone": record.timezone,
            "FlexibleTimeWindow": {"Mode": "OFF"},
            "State": "ENABLED" if record.state is State.ENABLED else "DISABLED",
            "Target": target,
        }

    def put(self, record: ScheduleRecord) -> None:
        request = self.definition(record)
        try:
            self._scheduler.create_schedule(**request)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ConflictException":
                raise
            self._scheduler.update_schedule(**request)

    def remove(self, record: ScheduleRecord) -> None:
        try:
            self._scheduler.delete_schedule(Name=self.name(record), GroupName=self.routes.group)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
                raise
