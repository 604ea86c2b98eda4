"""Wake-ups on AWS: EventBridge Scheduler one-time schedules that invoke the runner."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from sdk.ids import derived_id
from sdk.journal.records import iso

if TYPE_CHECKING:
    from mypy_boto3_scheduler import EventBridgeSchedulerClient


class SchedulerTimers:
    """Wake-ups as EventBridge Scheduler one-time schedules that invoke the runner.

    One schedule per (execution, wait key), named from both, so scheduling it again
    (a replayed wait) is a no-op; each deletes itself once it has fired.
    """

    def __init__(self, client: EventBridgeSchedulerClient, runner_arn: str, role_arn: str) -> None:
        self._client = client
        self._runner_arn = runner_arn
        self._role_arn = role_arn

    @staticmethod
    def schedule_name(execution_id: str, key: str) -> str:
        return "stepline-" + derived_id(execution_id, key)

    def schedule(self, execution_id: str, key: str, wake_at: datetime) -> None:
        # at() takes whole seconds: round up, so the wake-up is never early.
        at = (wake_at + timedelta(microseconds=999_999)).astimezone(UTC).replace(microsecond=0)
        try:
            self._client.create_schedule(
                Name=self.schedule_name(execution_id, key),
                ScheduleExpression=f"at({at:%Y-%m-%dT%H:%M:%S})",
                ScheduleExpressionTimezone="UTC",
                FlexibleTimeWindow={"Mode": "OFF"},
                ActionAfterCompletion="DELETE",
                Target={
                    "Arn": self._runner_arn,
                    "RoleArn": self._role_arn,
                    # The exact time rides along: at() holds whole seconds only.
                    "Input": json.dumps({"execution_id": execution_id, "wake_at": iso(wake_at)}),
                },
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ConflictException":
                raise
