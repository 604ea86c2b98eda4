"""Who may do what: each function's policy, the scheduler's role, the API callers' policy.

Each function gets the actions its code calls and nothing else (``ACCESS``; a test runs
every handler against moto, records the AWS operations it makes and checks them against
this table, both ways for DynamoDB and S3). No action has a wildcard; resources are the
stack's own. EventBridge Scheduler may assume ``SchedulerRole`` only for schedules of the
stack's group in the stack's account, and the runner may hand that role to no other
service.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from infra.names import (
    API_FUNCTION,
    ROUTER_FUNCTION,
    SCHEDULE_DLQ,
    SCHEDULER_ROLE,
    TABLE,
    TIMER_QUEUE,
    function_arn,
    get_att,
    schedule_group,
    schedule_group_arn,
    schedule_prefix,
    sub,
)
from sdk.journal.schema import BY_DUE_INDEX, BY_PARENT_INDEX, BY_STATUS_INDEX, BY_WORKFLOW_INDEX

VERSION = "2012-10-17"
SCHEDULER_SERVICE = "scheduler.amazonaws.com"


@dataclass(frozen=True)
class Access:
    """What one function's code calls.

    Attributes:
        journal: DynamoDB actions on the journal table's items.
        indexes: The journal indexes it queries.
        values: S3 actions on the objects of the values bucket.
        invokes: The functions (name suffixes) it invokes.
    """

    journal: tuple[str, ...] = ()
    indexes: tuple[str, ...] = ()
    values: tuple[str, ...] = ()
    invokes: tuple[str, ...] = ()


_READ_WRITE = ("s3:GetObject", "s3:PutObject")
# What publishing events and waiting for them take: the topic log's queries, its
# transactions (each item authorized as PutItem), waking executions (UpdateItem), reading an
# id already published (GetItem) and dropping waiters (DeleteItem).
_PUBLISH_AND_WAIT = (
    "dynamodb:DeleteItem",
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:Query",
    "dynamodb:UpdateItem",
)

ACCESS: dict[str, Access] = {
    # Replays and records steps, starts children, reports to parents, cancels children,
    # publishes events and waits for them (a waiter is written, then deleted).
    "RunnerFunction": Access(
        journal=_PUBLISH_AND_WAIT,
        indexes=(BY_PARENT_INDEX,),
        values=_READ_WRITE,
        invokes=("runner",),
    ),
    # Fails the child, reports it to its parent (whose large input it may read).
    "FailureFunction": Access(
        journal=("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"),
        values=("s3:GetObject",),
        invokes=("runner",),
    ),
    "WakeupsFunction": Access(invokes=("runner",)),  # turns timer messages into invocations
    # Lists what is due, re-drives it or delivers a finished child's outcome to its parent;
    # wakes the waiters of events whose publisher died first (dropping stale waiters).
    "SweeperFunction": Access(
        journal=_PUBLISH_AND_WAIT,
        indexes=(BY_DUE_INDEX,),
        values=_READ_WRITE,
        invokes=("runner",),
    ),
    # Starts, lists, shows, cancels and resumes executions; shows large values whole;
    # publishes events (the topic log, triggered executions, waiters) and lists topics.
    API_FUNCTION: Access(
        journal=(
            "dynamodb:DeleteItem",
            "dynamodb:GetItem",
            "dynamodb:PutItem",
            "dynamodb:Query",
            "dynamodb:Scan",
            "dynamodb:UpdateItem",
        ),
        indexes=(BY_WORKFLOW_INDEX, BY_STATUS_INDEX, BY_PARENT_INDEX),
        values=_READ_WRITE,
        invokes=("runner",),
    ),
    # Claims the events of a batch and creates its execution (one transaction, each item
    # authorized as PutItem), reads the events (large data from S3, a large batch input to
    # S3), starts the execution.
    "BatchFunction": Access(
        journal=("dynamodb:PutItem", "dynamodb:Query"),
        values=_READ_WRITE,
        invokes=("runner",),
    ),
    # Publishes the events put on the bus: the topic log, triggered executions, waiters.
    # (A bus entry is at most 256 KB: its data always fits the journal, never S3.)
    ROUTER_FUNCTION: Access(
        journal=_PUBLISH_AND_WAIT,
        invokes=("runner",),
    ),
    # Schedule ticks: reads the schedule item and the executions it looks at, writes the
    # item (skips, a declared schedule's first tick) and, in one transaction, the item and
    # the tick's execution (each authorized as PutItem). A tick's input is small: no S3.
    "SchedulesFunction": Access(
        journal=("dynamodb:GetItem", "dynamodb:PutItem"),
        invokes=("runner",),
    ),
    # Reads executions and steps (a long input or output from S3) and publishes lifecycle
    # events to their topics: the topic log, triggered executions, waiters.
    "LifecycleFunction": Access(
        journal=_PUBLISH_AND_WAIT,
        values=_READ_WRITE,
        invokes=("runner",),
    ),
}


def _allow(action: str | list[str], resource: Any, **condition: Any) -> dict[str, Any]:
    statement = {"Effect": "Allow", "Action": action, "Resource": resource}
    if condition:
        statement["Condition"] = condition
    return statement


def _index_arn(index: str) -> dict[str, Any]:
    return sub("${" + TABLE + ".Arn}/index/" + index)


def access_statements(access: Access) -> list[dict[str, Any]]:
    """The statements granting ``access``, one per kind of resource."""
    statements = []
    if access.journal:
        statements.append(_allow(list(access.journal), get_att(TABLE)))
    if access.indexes:
        statements.append(_allow("dynamodb:Query", [_index_arn(i) for i in access.indexes]))
    if access.values:
        statements.append(_allow(list(access.values), sub("${ValuesBucket.Arn}/*")))
    if access.invokes:
        statements.append(
            _allow("lambda:InvokeFunction", [function_arn(s) for s in access.invokes])
        )
    return statements


def function_policy(logical_id: str, *extra: dict[str, Any]) -> list[dict[str, Any]]:
    """A function's ``Policies``: one inline policy with its ``ACCESS`` and ``extra``."""
    return [{"Version": VERSION, "Statement": [*access_statements(ACCESS[logical_id]), *extra]}]


def timer_statements() -> list[dict[str, Any]]:
    """The runner may queue wake-ups, create its own schedules and hand them the scheduler role.

    Schedules only in the stack's group and only under the stack's prefix; the role only to
    EventBridge Scheduler.
    """
    schedules = sub(
        "arn:${AWS::Partition}:scheduler:${AWS::Region}:${AWS::AccountId}:"
        "schedule/${Group}/${Prefix}-*",
        {"Group": schedule_group(), "Prefix": schedule_prefix()},
    )
    return [
        _allow("sqs:SendMessage", get_att(TIMER_QUEUE)),
        _allow("scheduler:CreateSchedule", schedules),
        _allow(
            "iam:PassRole",
            get_att(SCHEDULER_ROLE),
            StringEquals={"iam:PassedToService": SCHEDULER_SERVICE},
        ),
    ]


def scheduler_role() -> dict[str, Any]:
    """The role EventBridge Scheduler assumes for the stack's schedules.

    It invokes the runner (wake-ups), the sweeper (its recurring schedule) and the schedules
    function (the app's schedules) and sends
    what it could not deliver to the schedules' dead-letter queue; nothing else. Only
    Scheduler, acting for a schedule of the stack's own group in the stack's account, may
    assume it (the confused-deputy guard AWS documents for Scheduler).
    """
    trust = {
        "Version": VERSION,
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": SCHEDULER_SERVICE},
                "Action": "sts:AssumeRole",
                "Condition": {
                    "StringEquals": {
                        "aws:SourceAccount": {"Ref": "AWS::AccountId"},
                        "aws:SourceArn": schedule_group_arn(),
                    }
                },
            }
        ],
    }
    permissions = {
        "Version": VERSION,
        "Statement": [
            _allow(
                "lambda:InvokeFunction",
                [function_arn("runner"), function_arn("sweeper"), function_arn("schedules")],
            ),
            _allow("sqs:SendMessage", get_att(SCHEDULE_DLQ)),
        ],
    }
    return {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "AssumeRolePolicyDocument": trust,
            "Policies": [{"PolicyName": "invoke-targets", "PolicyDocument": permissions}],
        },
    }


def api_caller_policy() -> dict[str, Any]:
    """A managed policy to attach to whoever calls the HTTP API (its IAM-auth function URL).

    Function URLs created since October 2025 need ``lambda:InvokeFunction`` besides
    ``lambda:InvokeFunctionUrl``; the former is granted only through the URL, so the
    policy cannot be used to invoke the function directly.
    """
    api = get_att(API_FUNCTION)
    return {
        "Type": "AWS::IAM::ManagedPolicy",
        "Properties": {
            "Description": "Lets a principal call the Stepline app's HTTP API (IAM auth).",
            "PolicyDocument": {
                "Version": VERSION,
                "Statement": [
                    _allow(
                        "lambda:InvokeFunctionUrl",
                        api,
                        StringEquals={"lambda:FunctionUrlAuthType": "AWS_IAM"},
                    ),
                    _allow(
                        "lambda:InvokeFunction", api, Bool={"lambda:InvokedViaFunctionUrl": "true"}
                    ),
                ],
            },
        },
    }
