"""Names and ARNs of the stack's resources, as CloudFormation expressions.

Every function is named ``<stack>-<suffix>``, so policies can name a function before it
exists (a policy naming its own function by ``Fn::GetAtt`` would be a circular
dependency). The stack's schedule group is named after the stack; the wake-up schedules
in it start with the stack's id.
"""

from __future__ import annotations

from typing import Any

TABLE = "JournalTable"
BUCKET = "ValuesBucket"
SCHEDULE_GROUP = "ScheduleGroup"
SCHEDULER_ROLE = "SchedulerRole"
TIMER_QUEUE = "TimerQueue"
TIMER_DLQ = "TimerDeadLetterQueue"
FAILURE_DLQ = "FailureDeadLetterQueue"
SCHEDULE_DLQ = "ScheduleDeadLetterQueue"
API_FUNCTION = "ApiFunction"


def sub(text: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    """``Fn::Sub``, with variables if given."""
    return {"Fn::Sub": [text, variables] if variables else text}


def get_att(logical_id: str, attribute: str = "Arn") -> dict[str, list[str]]:
    return {"Fn::GetAtt": [logical_id, attribute]}


def function_name(suffix: str) -> dict[str, Any]:
    return sub("${AWS::StackName}-" + suffix)


def function_arn(suffix: str) -> dict[str, Any]:
    return sub(
        "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:"
        "${AWS::StackName}-" + suffix
    )


def schedule_group() -> dict[str, str]:
    """The stack's schedule group is named after the stack (it holds the wake-up schedules)."""
    return {"Ref": "AWS::StackName"}


def schedule_group_arn() -> dict[str, Any]:
    return sub(
        "arn:${AWS::Partition}:scheduler:${AWS::Region}:${AWS::AccountId}:"
        "schedule-group/${AWS::StackName}"
    )


def schedule_prefix() -> dict[str, Any]:
    """Wake-up schedule names start with the stack's id (its UUID, 36 characters)."""
    return {"Fn::Select": [2, {"Fn::Split": ["/", {"Ref": "AWS::StackId"}]}]}
