"""The schedules function and the EventBridge Scheduler schedules the app declares.

Each ``@workflow(schedule=...)`` becomes a ``ScheduleV2`` event of the schedules function:
an ``AWS::Scheduler::Schedule`` in the stack's group, its cron in AWS's six-field form
(``sdk.schedules.cron.aws_expression``) with ``ScheduleExpressionTimezone``, invoking the
function with the schedule's workflow and key and Scheduler's ``<aws.scheduler.scheduled-time>``,
through the stack's ``SchedulerRole``, undeliverable ticks going to ``ScheduleDeadLetterQueue``.
Schedules created at run time are made by the API function (``sdk.schedules.aws``) in the
same group, under the stack's prefix.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from infra.names import (
    SCHEDULE_DLQ,
    SCHEDULE_GROUP,
    SCHEDULER_ROLE,
    function_arn,
    get_att,
    schedule_group,
    schedule_prefix,
    sub,
)
from infra.parameters import ref
from sdk.app import App
from sdk.schedules.cron import aws_expression
from sdk.schedules.ticks import TickRequest

SCHEDULES_FUNCTION = "SchedulesFunction"
SCHEDULES_SUFFIX = "schedules"
SCHEDULER_SERVICE = "scheduler.amazonaws.com"
# The API function's variables naming where runtime schedules go (``handlers.config``).
SCHEDULE_VARIABLES = {
    "STEPLINE_SCHEDULE_GROUP": schedule_group(),
    "STEPLINE_SCHEDULE_PREFIX": schedule_prefix(),
    "STEPLINE_SCHEDULER_ROLE_ARN": get_att(SCHEDULER_ROLE),
    "STEPLINE_SCHEDULE_DLQ_ARN": get_att(SCHEDULE_DLQ),
    "STEPLINE_SCHEDULES_ARN": function_arn(SCHEDULES_SUFFIX),
}


def event_name(workflow_id: str, key: str) -> str:
    """A ``ScheduleV2`` event name: alphanumeric, readable, unique per (workflow, key)."""
    words = re.split(r"[^A-Za-z0-9]+", f"{workflow_id} {key}")
    readable = "".join(word[:1].upper() + word[1:] for word in words)[:24]
    digest = hashlib.sha256(f"{workflow_id}\x1f{key}".encode()).hexdigest()[:8]
    return f"Tick{readable}{digest}"


def schedule_events(app: App) -> dict[str, Any]:
    """One ``ScheduleV2`` event per declared schedule, by event name."""
    events: dict[str, Any] = {}
    for wf in app:
        spec = wf.schedule
        if spec is None:
            continue
        events[event_name(wf.id, spec.key)] = {
            "Type": "ScheduleV2",
            "Properties": {
                "ScheduleExpression": aws_expression(spec.cron),
                "ScheduleExpressionTimezone": spec.timezone,
                "GroupName": ref(SCHEDULE_GROUP),
                "Description": f"Ticks of workflow {wf.id} ({spec.cron}, {spec.timezone}).",
                "Input": json.dumps(TickRequest.target_input(wf.id, spec.key)),
                # The stack's role (its trust is guarded), not one SAM would generate.
                "RoleArn": get_att(SCHEDULER_ROLE),
                "DeadLetterConfig": {"Arn": get_att(SCHEDULE_DLQ)},
            },
        }
    return events


def runtime_schedule_statements() -> list[dict[str, Any]]:
    """The API may create, change and delete the runtime schedules of the stack, and hand
    them the scheduler role: only in the stack's group, only under ``{prefix}.``."""
    schedules = sub(
        "arn:${AWS::Partition}:scheduler:${AWS::Region}:${AWS::AccountId}:"
        "schedule/${Group}/${Prefix}.*",
        {"Group": schedule_group(), "Prefix": schedule_prefix()},
    )
    return [
        {
            "Effect": "Allow",
            "Action": [
                "scheduler:CreateSchedule",
                "scheduler:DeleteSchedule",
                "scheduler:UpdateSchedule",
            ],
            "Resource": schedules,
        },
        {
            "Effect": "Allow",
            "Action": "iam:PassRole",
            "Resource": get_att(SCHEDULER_ROLE),
            "Condition": {"StringEquals": {"iam:PassedToService": SCHEDULER_SERVICE}},
        },
    ]
